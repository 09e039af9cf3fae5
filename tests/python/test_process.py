"""Behaviour that needs a fresh interpreter: the default worker, and Ctrl-C during an await."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

DEFAULT_SNIPPET = textwrap.dedent(
    """
    from golem_promise import create_promise, await_promise, complete_promise, poll_promise, delete_promise
    promise_id = create_promise(); assert complete_promise(promise_id, b"hello") is True
    assert complete_promise(promise_id, b"x") is False; assert await_promise(promise_id) == b"hello"
    assert poll_promise(promise_id) == b"hello"
    delete_promise(promise_id); delete_promise(promise_id)
    print(promise_id)
    """
)


def test_default_worker_snippet_runs_in_a_fresh_interpreter(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", DEFAULT_SNIPPET],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "00000000-0000-0000-0000-000000000000/default/2"


AWAIT_FOREVER = textwrap.dedent(
    """
    import sys
    from golem_promise import create_promise, await_promise
    promise_id = create_promise()
    print("ready", flush=True)
    await_promise(promise_id)
    print("unreachable", flush=True)
    """
)


def test_ctrl_c_interrupts_an_await_that_waits_forever(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", AWAIT_FOREVER],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(0.3)  # let it block inside await_promise
        assert proc.poll() is None, "await_promise returned instead of waiting"
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=10)
        elapsed = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "KeyboardInterrupt" in stderr
    assert "unreachable" not in stdout
    assert proc.returncode != 0
    assert elapsed < 3.0, f"Ctrl-C took {elapsed:.2f} s to interrupt the await"


COMPLETE_FROM_CHILD = textwrap.dedent(
    """
    import sys, time
    from golem_promise import Host, PromiseId
    time.sleep(float(sys.argv[3]))
    with Host(sys.argv[1]) as host:
        print(host.complete_promise(PromiseId.parse(sys.argv[2]), sys.argv[4].encode()))
    """
)


def test_completion_by_another_process_wakes_the_await(tmp_path: Path) -> None:
    from golem_promise import ComponentId, Host, Uuid

    db = tmp_path / "shared.db"
    with Host(db) as host:
        worker = host.worker(ComponentId(Uuid(7, 7)), "waiter")
        pid = worker.create_promise()
        child = subprocess.Popen(
            [sys.executable, "-c", COMPLETE_FROM_CHILD, str(db), str(pid), "0.3", "from child"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            text=True,
        )
        started = time.monotonic()
        try:
            assert worker.await_promise(pid, timeout=20) == b"from child"
        finally:
            out, _ = child.communicate(timeout=30)
        assert time.monotonic() - started < 15
        assert out.strip() == "True"


def test_exactly_one_process_wins_a_completion_race(tmp_path: Path) -> None:
    from golem_promise import ComponentId, Host, Uuid

    db = tmp_path / "race.db"
    with Host(db) as host:
        pid = host.worker(ComponentId(Uuid(8, 8)), "raced").create_promise()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", COMPLETE_FROM_CHILD, str(db), str(pid), "0", f"child-{i}"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    results = [c.communicate(timeout=60) for c in children]
    assert all(c.returncode == 0 for c in children), [err for _, err in results]
    wins = [i for i, (out, _) in enumerate(results) if out.strip() == "True"]
    assert len(wins) == 1
    assert [out.strip() for out, _ in results].count("False") == 3
    with Host(db) as host:
        assert host.poll_promise(pid) == f"child-{wins[0]}".encode()
