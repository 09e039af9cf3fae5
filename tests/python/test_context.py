"""The current worker: `with worker:` blocks, nesting, and isolation across threads and tasks."""

from __future__ import annotations

import asyncio
import threading
from typing import Dict

import pytest

import golem_promise as gp
from golem_promise import Host, Worker

from conftest import COMPONENT


def test_with_worker_makes_it_current(worker: Worker) -> None:
    assert gp.current_worker() is not worker
    with worker as w:
        assert w is worker
        assert gp.current_worker() is worker
        pid = gp.create_promise()
        assert pid.worker_id == worker.worker_id
        assert gp.complete_promise(pid, b"ctx") is True
        assert gp.poll_promise(pid) == b"ctx"
        assert gp.await_promise(pid) == b"ctx"
        gp.delete_promise(pid)
        with pytest.raises(gp.PromiseNotFound):
            gp.poll_promise(pid)
    assert gp.current_worker() is not worker


def test_nesting_restores_the_outer_worker(worker: Worker, other_worker: Worker) -> None:
    default = gp.current_worker()
    with worker:
        with other_worker:
            assert gp.current_worker() is other_worker
            with worker:
                assert gp.current_worker() is worker
            assert gp.current_worker() is other_worker
        assert gp.current_worker() is worker
    assert gp.current_worker() is default


def test_context_is_restored_after_an_exception(worker: Worker) -> None:
    default = gp.current_worker()
    with pytest.raises(RuntimeError):
        with worker:
            raise RuntimeError("boom")
    assert gp.current_worker() is default


def test_threads_see_their_own_current_worker(host: Host) -> None:
    names = [f"thread-{i}" for i in range(4)]
    workers = {n: host.worker(COMPONENT, n) for n in names}
    barrier = threading.Barrier(len(names))
    seen: Dict[str, str] = {}
    lock = threading.Lock()

    def run(name: str) -> None:
        with workers[name]:
            barrier.wait()  # every thread is inside its own `with` at once
            pid = gp.create_promise()
            current = gp.current_worker().worker_id.worker_name
            barrier.wait()
            with lock:
                seen[name] = f"{current}:{pid.worker_id.worker_name}"

    threads = [threading.Thread(target=run, args=(n,)) for n in names]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {n: f"{n}:{n}" for n in names}


def test_a_new_thread_does_not_inherit_the_current_worker(worker: Worker) -> None:
    result: Dict[str, Worker] = {}
    with worker:
        t = threading.Thread(target=lambda: result.setdefault("w", gp.current_worker()))
        t.start()
        t.join()
    assert result["w"] is not worker
    assert result["w"].worker_id.worker_name == gp.DEFAULT_WORKER_NAME


def test_asyncio_tasks_see_their_own_current_worker(host: Host) -> None:
    a, b = host.worker(COMPONENT, "task-a"), host.worker(COMPONENT, "task-b")

    async def run(w: Worker, other_started: asyncio.Event, started: asyncio.Event) -> str:
        with w:
            started.set()
            await other_started.wait()  # both tasks are inside their `with` blocks now
            await asyncio.sleep(0)
            return gp.create_promise().worker_id.worker_name

    async def main() -> list[str]:
        ea, eb = asyncio.Event(), asyncio.Event()
        return list(await asyncio.gather(run(a, eb, ea), run(b, ea, eb)))

    assert asyncio.run(main()) == ["task-a", "task-b"]


def test_default_worker_is_the_nil_component_named_default() -> None:
    w = gp.current_worker()
    assert str(w.worker_id) == "00000000-0000-0000-0000-000000000000/default"
    assert gp.current_worker() is w
    assert w.host is gp.default_host()
    pid = gp.create_promise()
    assert pid.worker_id == w.worker_id
    assert gp.get_oplog_index() == pid.oplog_idx + 1
