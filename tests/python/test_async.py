"""asyncio: await_promise_async leaves the event loop free, times out, and can be cancelled."""

from __future__ import annotations

import asyncio
import time

import pytest

import golem_promise as gp
from golem_promise import Host, Worker


def test_async_await_keeps_the_loop_running(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()

    async def main() -> tuple[bytes, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        tick_task = asyncio.create_task(ticker())
        asyncio.get_running_loop().call_later(0.3, host.complete_promise, pid, b"async")
        value = await worker.await_promise_async(pid, timeout=10)
        tick_task.cancel()
        return value, ticks

    value, ticks = asyncio.run(main())
    assert value == b"async"
    assert ticks >= 10  # the loop kept ticking while we waited


@pytest.mark.parametrize("level", ["worker", "host"])
def test_async_await_times_out(host: Host, worker: Worker, level: str) -> None:
    pid = worker.create_promise()
    target = worker if level == "worker" else host

    async def main() -> None:
        await target.await_promise_async(pid, timeout=0.25)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        asyncio.run(main())
    assert 0.24 <= time.monotonic() - started < 3


def test_async_await_can_be_cancelled(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()

    async def main() -> float:
        task = asyncio.create_task(worker.await_promise_async(pid))
        await asyncio.sleep(0.1)
        started = time.monotonic()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return time.monotonic() - started

    assert asyncio.run(main()) < 1
    time.sleep(0.25)  # and nothing is recorded later either
    assert [e.kind for e in host.oplog(worker.worker_id)] == ["create", "create-promise"]
    assert worker.poll_promise(pid) is None


def test_async_await_reports_deletion(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.1, host.delete_promise, pid)
        await worker.await_promise_async(pid, timeout=10)

    with pytest.raises(gp.PromiseNotFound):
        asyncio.run(main())


def test_module_level_async_await_uses_the_tasks_worker(host: Host, worker: Worker) -> None:
    async def main() -> bytes:
        with worker:
            pid = gp.create_promise()
            asyncio.get_running_loop().call_later(0.05, host.complete_promise, pid, b"task")
            return await gp.await_promise_async(pid, timeout=10)

    assert asyncio.run(main()) == b"task"
    assert host.oplog(worker.worker_id)[-1].kind == "await-promise"
