"""Durable execution across a real crash: a worker process killed with SIGKILL while awaiting,
its promise completed by another process, and the same worker code started again."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import IO, List

from golem_promise import ComponentId, Host, PromiseId, Uuid, WorkerId

WORKER = WorkerId(ComponentId(Uuid(0x5EED, 0xD00D)), "durable")

# The worker's code, as it would run on Golem: it is started again from the top after a crash.
WORKER_CODE = textwrap.dedent(
    """
    import sys
    from golem_promise import ComponentId, Host, Uuid, await_promise, create_promise

    with Host(sys.argv[1], synchronous="normal") as host:
        worker = host.worker(ComponentId(Uuid(0x5EED, 0xD00D)), "durable")
        with worker:
            replaying = worker.is_replaying
            promise_id = create_promise()
            print("created", promise_id, replaying, flush=True)
            payload = await_promise(promise_id)
            print("payload", payload.decode(), worker.is_replaying, worker.oplog_position, flush=True)
    """
)


def start_worker(db: Path) -> "subprocess.Popen[str]":
    return subprocess.Popen(
        [sys.executable, "-c", WORKER_CODE, str(db)],
        cwd=db.parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def read_line(stream: "IO[str] | None") -> List[str]:
    assert stream is not None
    return stream.readline().split()


def kill_while_awaiting(proc: "subprocess.Popen[str]") -> None:
    time.sleep(0.3)  # let it block inside await_promise
    assert proc.poll() is None, "the worker finished instead of awaiting"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


def finish(proc: "subprocess.Popen[str]") -> List[str]:
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out.split()


def test_worker_killed_while_awaiting_finishes_with_the_payload_after_restart(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    first = start_worker(db)
    try:
        created = read_line(first.stdout)
        assert created[0] == "created" and created[2] == "False"  # a fresh worker runs live
        promise_id = PromiseId.parse(created[1])
        kill_while_awaiting(first)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    # While the worker is down, another process (this one) completes its promise.
    with Host(db) as host:
        assert [e.kind for e in host.oplog(WORKER)] == ["create", "create-promise"]  # await not recorded
        assert host.complete_promise(promise_id, b"approved") is True

    second = start_worker(db)
    started = time.monotonic()
    lines = finish(second)
    # Same promise id (replayed), then the await finishes at once with the payload, live.
    assert lines[:3] == ["created", str(promise_id), "True"]
    assert lines[3:] == ["payload", "approved", "False", "3"]
    assert time.monotonic() - started < 20
    with Host(db) as host:
        kinds = [e.kind for e in host.oplog(WORKER)]
        assert kinds == ["create", "create-promise", "await-promise"]

    # A third start replays everything, including the recorded payload, and writes nothing.
    third = finish(start_worker(db))
    assert third == ["created", str(promise_id), "True", "payload", "approved", "False", "3"]
    with Host(db) as host:
        assert len(host.oplog(WORKER)) == 3


def test_restarted_worker_waits_for_a_completion_from_another_process(tmp_path: Path) -> None:
    db = tmp_path / "crash-then-complete.db"
    first = start_worker(db)
    try:
        promise_id = PromiseId.parse(read_line(first.stdout)[1])
        kill_while_awaiting(first)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()

    second = start_worker(db)
    try:
        created = read_line(second.stdout)
        assert created == ["created", str(promise_id), "True"]
        time.sleep(0.3)
        assert second.poll() is None, "the restarted worker did not wait for the completion"
        with Host(db) as host:
            assert host.complete_promise(promise_id, b"later") is True
        assert finish(second) == ["payload", "later", "False", "3"]
    finally:
        if second.poll() is None:
            second.kill()
            second.wait()
