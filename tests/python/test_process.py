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
    assert elapsed < 2.0, f"Ctrl-C took {elapsed:.2f} s to interrupt the await"
