"""Promise handles (Golem 1.3+ get-promise): get() is a recorded poll, subscribe() is not."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import golem_promise as gp
from golem_promise import GetPromiseResult, Host, PromiseId, PromiseResult, Worker, aio

from conftest import COMPONENT


def test_get_is_the_workers_recorded_poll(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    result = worker.get_promise(pid)
    assert isinstance(result, GetPromiseResult)
    assert PromiseResult is GetPromiseResult
    assert result.promise_id == pid
    assert result.get() is None
    host.complete_promise(pid, b"payload")
    assert result.get() == b"payload"
    kinds = [e.kind for e in host.oplog(worker.worker_id)]
    assert kinds == ["create", "create-promise", "poll-promise", "poll-promise"]


def test_subscribe_ready_and_block_record_nothing(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    pollable = worker.get_promise(pid).subscribe()
    assert pollable.promise_id == pid
    assert not pollable.ready()
    with pytest.raises(TimeoutError):
        pollable.block(timeout=0.05)
    threading.Timer(0.05, host.complete_promise, (pid, b"x")).start()
    started = time.monotonic()
    pollable.block(timeout=10)
    assert time.monotonic() - started < 5
    assert pollable.ready()
    assert [e.kind for e in host.oplog(worker.worker_id)] == ["create", "create-promise"]


def test_block_without_a_timeout_waits_until_another_thread_completes(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    result = worker.get_promise(pid)
    pollable = result.subscribe()
    blocked = threading.Thread(target=pollable.block)  # timeout=None: as long as it takes
    blocked.start()
    time.sleep(0.1)
    assert blocked.is_alive()  # still waiting
    host.complete_promise(pid, b"late")
    blocked.join(10)
    assert not blocked.is_alive()
    assert result.get() == b"late"


COMPLETER = """
import sys, time
from golem_promise import Host
time.sleep(0.2)
with Host(sys.argv[1]) as host:
    host.complete_promise(sys.argv[2], b"from a process")
"""


def test_block_is_woken_by_a_completion_in_another_process(tmp_path: Path) -> None:
    with Host(tmp_path / "shared.db") as host:
        pid = host.worker(COMPONENT, "blocked").create_promise()
        result = host.get_promise(pid)
        completer = subprocess.Popen([sys.executable, "-c", COMPLETER, str(tmp_path / "shared.db"), str(pid)])
        try:
            result.subscribe().block(timeout=20)
            assert result.get() == b"from a process"
        finally:
            assert completer.wait(20) == 0


def test_a_deleted_promise_is_ready_and_get_raises(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    result = worker.get_promise(pid)
    pollable = result.subscribe()
    threading.Timer(0.05, host.delete_promise, (pid,)).start()
    pollable.block(timeout=10)
    assert pollable.ready()
    with pytest.raises(gp.PromiseNotFound):
        result.get()


def test_a_handle_for_an_unknown_promise_is_lazy(host: Host, worker: Worker) -> None:
    missing = PromiseId(worker.worker_id, 12345)
    result = host.get_promise(missing)
    assert result.subscribe().ready()
    with pytest.raises(gp.PromiseNotFound):
        result.get()


def test_host_handles_record_nothing(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    with host.get_promise(str(pid)) as result:
        assert result.get() is None
        host.complete_promise(pid, b"h")
        result.subscribe().block()
        assert result.get() == b"h"
    assert [e.kind for e in host.oplog(worker.worker_id)] == ["create", "create-promise"]


def test_module_level_get_promise_uses_the_current_worker(host: Host, worker: Worker) -> None:
    with worker:
        pid = gp.create_promise()
        result = gp.get_promise(pid)
        host.complete_promise(pid, b"m")
        assert result.get() == b"m"
    assert [e.kind for e in host.oplog(worker.worker_id)][-1] == "poll-promise"


@pytest.mark.skipif(not hasattr(Worker, "restart"), reason="needs Worker.restart (replay API)")
def test_a_worker_get_replays_the_recorded_poll(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    host.complete_promise(pid, b"first")
    assert worker.get_promise(pid).get() == b"first"
    getattr(worker, "restart")()  # the replay API may be newer than this test
    assert worker.create_promise() == pid
    assert worker.get_promise(pid).get() == b"first"
    assert not getattr(worker, "is_replaying")


def test_a_pollable_outlives_its_hosts_close(worker: Worker) -> None:
    local = Host(":memory:")
    w = local.worker(worker.worker_id.component_id, "short")
    pid = w.create_promise()
    pollable = local.get_promise(pid).subscribe()
    local.close()
    assert not pollable.ready()  # the C handle keeps the database open
    pollable.close()
    with pytest.raises(ValueError):
        pollable.ready()


def test_bad_promise_ids_are_rejected(host: Host) -> None:
    with pytest.raises(gp.InvalidId):
        host.get_promise("not a promise id")
    with pytest.raises(TypeError):
        host.get_promise(42)  # type: ignore[arg-type]


@pytest.mark.parametrize("level", ["worker", "host"])
def test_block_takes_only_a_number_of_seconds_or_none(host: Host, worker: Worker, level: str) -> None:
    pid = worker.create_promise()
    pollable = (worker if level == "worker" else host).get_promise(pid).subscribe()
    for bad in [True, False, "1", b"1", [1], 1j]:
        started = time.monotonic()
        with pytest.raises(TypeError, match=f"timeout must be a number of seconds or None, not {type(bad).__name__}"):
            pollable.block(bad)  # type: ignore[arg-type]
        assert time.monotonic() - started < 0.5  # refused, not waited for (True is not 1 s)
    for negative in [-1, -0.5, float("nan")]:
        with pytest.raises(ValueError, match="non-negative"):
            pollable.block(negative)


@pytest.mark.parametrize("level", ["worker", "host"])
def test_a_timed_out_block_says_block_not_await(host: Host, worker: Worker, level: str) -> None:
    pid = worker.create_promise()
    pollable = (worker if level == "worker" else host).get_promise(pid).subscribe()
    with pytest.raises(TimeoutError) as caught:
        pollable.block(0.05)
    assert str(caught.value) == "Pollable.block timed out after 0.05 s; the promise is still pending"
    with pytest.raises(TimeoutError, match=r"^wait_ready timed out after 0\.05 s; "):
        asyncio.run(aio.wait_ready(pollable, 0.05))
    with pytest.raises(TimeoutError, match=r"^wait_ready timed out after 0 s; "):
        asyncio.run(aio.wait_ready(pollable, 0))
