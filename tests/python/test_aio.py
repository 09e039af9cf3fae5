"""golem_promise.aio: many waits on one change feed, no thread per wait, exact oplog records."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import List

import pytest

import golem_promise as gp
from golem_promise import Host, PromiseId, Worker, aio

from conftest import COMPONENT


def _kinds(host: Host, worker: Worker) -> List[str]:
    return [e.kind for e in host.oplog(worker.worker_id)]


@pytest.mark.parametrize("level", ["worker", "host"])
def test_thousands_of_awaits_share_one_feed_and_no_threads(host: Host, worker: Worker, level: str) -> None:
    n = 2000
    pids = [worker.create_promise() for _ in range(n)]

    async def main() -> List[bytes]:
        threads_before = threading.active_count()
        if level == "worker":
            tasks = [asyncio.create_task(aio.await_promise(p, 30, worker=worker)) for p in pids]
        else:
            tasks = [asyncio.create_task(aio.await_promise(p, 30, host=host)) for p in pids]
        await asyncio.sleep(0.05)
        assert aio.waiting_count() == n
        assert threading.active_count() == threads_before  # no thread per wait

        def complete_all() -> None:
            for i, p in enumerate(pids):
                host.complete_promise(p, b"%d" % i)

        completer = threading.Thread(target=complete_all)
        completer.start()
        values = await asyncio.gather(*tasks)
        completer.join()
        return values

    values = asyncio.run(main())
    assert values == [b"%d" % i for i in range(n)]
    assert aio.waiting_count() == 0
    kinds = _kinds(host, worker)
    expected_awaits = n if level == "worker" else 0
    assert kinds.count("await-promise") == expected_awaits  # recorded exactly once each


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))  # every thread of the process, not only Python's


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="needs Linux /proc")
def test_a_steady_stream_of_completions_against_many_waiters_wakes_each_with_its_payload(host: Host) -> None:
    """Scans are paced by their cost (aio.SCAN_PACE): changes that arrive while a paced scan is
    due join it, and none is lost, whether it lands before, during or after that scan."""
    n, streamed = 3000, 300
    worker = host.worker(COMPONENT, "stream")
    pids = [worker.create_promise() for _ in range(n)]

    async def main() -> List[bytes]:
        tasks = [asyncio.create_task(aio.await_promise(p, 60, host=host)) for p in pids]
        await asyncio.sleep(0.05)

        def stream() -> None:  # one at a time, with pauses shorter and longer than a scan
            for i, p in enumerate(pids[:streamed]):
                host.complete_promise(p, b"s%d" % i)
                time.sleep(0.0005 if i % 2 else 0.003)
            for i, p in enumerate(pids[streamed:], streamed):
                host.complete_promise(p, b"s%d" % i)

        completer = threading.Thread(target=stream)
        completer.start()
        values = await asyncio.wait_for(asyncio.gather(*tasks), 60)
        completer.join()
        return list(values)

    assert asyncio.run(main()) == [b"s%d" % i for i in range(n)]
    assert aio.waiting_count() == 0


def test_thousands_of_awaits_on_a_file_host_start_no_os_thread_per_wait(tmp_path: Path) -> None:
    with Host(tmp_path / "many.db", synchronous="normal") as host:  # no fsync per call: a quick test
        worker = host.worker(COMPONENT, "many")
        pids = [worker.create_promise() for _ in range(1000)]

        async def main() -> List[bytes]:
            before = _os_threads()
            tasks = [asyncio.create_task(aio.await_promise(p, 30, worker=worker)) for p in pids]
            await asyncio.sleep(0.05)
            assert aio.waiting_count() == len(pids)
            # At most the file host's one change-feed watcher thread, whatever the count.
            assert _os_threads() <= before + 1
            completer = threading.Thread(target=lambda: [host.complete_promise(p, b"f") for p in pids])
            completer.start()
            values = await asyncio.gather(*tasks)
            completer.join()
            return values

        assert asyncio.run(main()) == [b"f"] * len(pids)


def test_an_already_completed_promise_returns_at_once_and_records_once(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    host.complete_promise(pid, b"done")
    assert asyncio.run(aio.await_promise(pid, worker=worker)) == b"done"
    assert _kinds(host, worker) == ["create", "create-promise", "await-promise"]


def test_module_level_await_uses_the_current_worker_and_json(host: Host, worker: Worker) -> None:
    async def main() -> object:
        with worker:
            pid = gp.create_promise()
            asyncio.get_running_loop().call_later(0.05, host.complete_promise_json, pid, {"ok": True})
            return await aio.await_promise_json(pid, timeout=10)

    assert asyncio.run(main()) == {"ok": True}
    assert _kinds(host, worker)[-1] == "await-promise"


@pytest.mark.parametrize("level", ["worker", "host"])
def test_timeout_raises_records_nothing_and_unregisters(host: Host, worker: Worker, level: str) -> None:
    pid = worker.create_promise()

    async def main() -> None:
        if level == "worker":
            await aio.await_promise(pid, 0.2, worker=worker)
        else:
            await aio.await_promise(pid, 0.2, host=host)

    started = time.monotonic()
    with pytest.raises(TimeoutError):
        asyncio.run(main())
    assert 0.19 <= time.monotonic() - started < 3
    assert aio.waiting_count() == 0
    assert _kinds(host, worker) == ["create", "create-promise"]
    assert worker.poll_promise(pid) is None


def test_timeout_zero_checks_once(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    with pytest.raises(TimeoutError):
        asyncio.run(aio.await_promise(pid, 0, worker=worker))
    with pytest.raises(ValueError):
        asyncio.run(aio.await_promise(pid, -1, worker=worker))


def test_cancel_removes_the_wait_and_a_later_completion_records_nothing(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()

    async def main() -> None:
        task = asyncio.create_task(aio.await_promise(pid, worker=worker))
        await asyncio.sleep(0.05)
        assert aio.waiting_count() == 1
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert aio.waiting_count() == 0
        host.complete_promise(pid, b"late")
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert _kinds(host, worker) == ["create", "create-promise"]


def _live_waiters() -> int:
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, aio._Waiter))


@pytest.mark.parametrize("how", ["cancel", "wait_for", "timeout"])
def test_stopped_waits_leave_no_registration_behind(host: Host, worker: Worker, how: str) -> None:
    pids = [worker.create_promise() for _ in range(500)]
    change_fd = host._handle.change_fd()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        results: List[object]
        if how == "cancel":
            tasks = [asyncio.create_task(aio.await_promise(p, 30, worker=worker)) for p in pids]
            await asyncio.sleep(0.05)
            assert aio.waiting_count() == len(pids)
            for task in tasks:
                task.cancel()
            results = await asyncio.gather(*tasks, return_exceptions=True)
            assert all(isinstance(r, asyncio.CancelledError) for r in results)
        elif how == "wait_for":  # wait_for cancels the inner await when its time is up
            results = await asyncio.gather(
                *(asyncio.wait_for(aio.await_promise(p, worker=worker), 0.05) for p in pids), return_exceptions=True
            )
            assert all(isinstance(r, TimeoutError) for r in results)
        else:
            results = await asyncio.gather(
                *(aio.await_promise(p, 0.05, worker=worker) for p in pids), return_exceptions=True
            )
            assert all(isinstance(r, TimeoutError) for r in results)
        assert aio.waiting_count() == 0
        assert not loop.remove_reader(change_fd)  # the change feed is no longer watched
        # No timer left behind (the watcher's tick, per-wait timeouts); _scheduled is CPython's.
        assert [h for h in getattr(loop, "_scheduled", []) if not h.cancelled()] == []
        for p in pids:
            host.complete_promise(p, b"late")
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert _live_waiters() == 0
    assert _kinds(host, worker).count("await-promise") == 0  # nothing recorded, not even late


def test_cancelling_one_of_many_leaves_the_others_waiting(host: Host, worker: Worker) -> None:
    a, b = worker.create_promise(), worker.create_promise()

    async def main() -> bytes:
        ta = asyncio.create_task(aio.await_promise(a, worker=worker))
        tb = asyncio.create_task(aio.await_promise(b, worker=worker))
        await asyncio.sleep(0.05)
        ta.cancel()
        await asyncio.sleep(0)
        host.complete_promise(a, b"a")
        host.complete_promise(b, b"b")
        return await asyncio.wait_for(tb, 10)

    assert asyncio.run(main()) == b"b"
    assert _kinds(host, worker).count("await-promise") == 1


@pytest.mark.parametrize("level", ["worker", "host"])
def test_deletion_while_waiting_raises_promise_not_found(host: Host, worker: Worker, level: str) -> None:
    pid = worker.create_promise()

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.05, host.delete_promise, pid)
        if level == "worker":
            await aio.await_promise(pid, 10, worker=worker)
        else:
            await aio.await_promise(pid, 10, host=host)

    with pytest.raises(gp.PromiseNotFound):
        asyncio.run(main())
    entries = host.oplog(worker.worker_id)
    if level == "worker":  # a finished await: recorded, with its error
        assert entries[-1].kind == "await-promise"
        assert entries[-1].status == gp.PromiseNotFound.default_code
    else:
        assert [e.kind for e in entries] == ["create", "create-promise"]


def test_awaiting_another_workers_promise_is_refused(host: Host, worker: Worker, other_worker: Worker) -> None:
    pid = other_worker.create_promise()
    with pytest.raises(gp.PromiseNotOwned):
        asyncio.run(aio.await_promise(pid, 1, worker=worker))


def test_unknown_promise_raises_promise_not_found(host: Host, worker: Worker) -> None:
    missing = PromiseId(worker.worker_id, 999)
    with pytest.raises(gp.PromiseNotFound):
        asyncio.run(aio.await_promise(missing, 1, host=host))


def test_completion_from_the_loop_thread_itself_wakes_the_wait(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()

    async def main() -> bytes:
        task = asyncio.create_task(aio.await_promise(pid, 10, worker=worker))
        await asyncio.sleep(0.02)
        host.complete_promise(pid, b"same thread")
        return await task

    assert asyncio.run(main()) == b"same thread"


def test_closing_the_host_ends_the_wait_with_value_error(worker: Worker) -> None:
    local = Host(":memory:")
    w = local.worker(COMPONENT, "closing")
    pid = w.create_promise()

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.05, local.close)
        await aio.await_promise(pid, 10, host=local)

    with pytest.raises(ValueError, match="closed"):
        asyncio.run(main())
    assert aio.waiting_count() == 0


@pytest.mark.skipif(not hasattr(Worker, "restart"), reason="needs Worker.restart (replay API)")
def test_a_replayed_await_is_answered_from_the_oplog(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    host.complete_promise(pid, b"first")
    assert asyncio.run(aio.await_promise(pid, worker=worker)) == b"first"
    getattr(worker, "restart")()  # the replay API may be newer than this test
    assert worker.create_promise() == pid
    assert asyncio.run(aio.await_promise(pid, worker=worker)) == b"first"
    assert not getattr(worker, "is_replaying")
    assert _kinds(host, worker) == ["create", "create-promise", "await-promise"]


def test_wait_ready_on_a_pollable_records_nothing(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    pollable = worker.get_promise(pid).subscribe()

    async def main() -> None:
        asyncio.get_running_loop().call_later(0.05, host.complete_promise, pid, b"r")
        await aio.wait_ready(pollable, timeout=10)

    asyncio.run(main())
    assert pollable.ready()
    assert _kinds(host, worker) == ["create", "create-promise"]


def test_two_event_loops_in_two_threads_both_wake(host: Host, worker: Worker) -> None:
    pids = [worker.create_promise() for _ in range(2)]
    results: List[bytes] = []

    def run(pid: PromiseId) -> None:
        results.append(asyncio.run(aio.await_promise(pid, 10, host=host)))

    threads = [threading.Thread(target=run, args=(p,)) for p in pids]
    for t in threads:
        t.start()
    time.sleep(0.1)
    for p in pids:
        host.complete_promise(p, b"both")
    for t in threads:
        t.join(15)
    assert results == [b"both", b"both"]


COMPLETER = """
import sys, time
from golem_promise import Host, PromiseId
time.sleep(0.2)
with Host(sys.argv[1]) as host:
    print(host.complete_promise(PromiseId.parse(sys.argv[2]), b"from another process"))
"""


def test_completion_by_another_process_wakes_the_wait(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    with Host(path) as host:
        worker = host.worker(COMPONENT, "waiter")
        pid = worker.create_promise()

        async def main() -> bytes:
            proc = await asyncio.create_subprocess_exec(sys.executable, "-c", COMPLETER, path, str(pid))
            value = await aio.await_promise(pid, 20, worker=worker)
            assert await proc.wait() == 0
            return value

        started = time.monotonic()
        assert asyncio.run(main()) == b"from another process"
        assert time.monotonic() - started < 15
        assert [e.kind for e in host.oplog(worker.worker_id)][-1] == "await-promise"


def test_completion_over_http_wakes_the_wait(host: Host, worker: Worker) -> None:
    if not hasattr(host, "serve"):
        pytest.skip("Host.serve is not available")
    pid = worker.create_promise()
    with host.serve(token="s3cret") as server:
        url = (
            f"{server.url}/v1/components/{pid.worker_id.component_id}"
            f"/workers/{pid.worker_id.worker_name}/complete"
        )
        body = json.dumps({"oplogIdx": pid.oplog_idx, "data": list(b"via http")}).encode()

        def post() -> None:
            time.sleep(0.05)
            req = urllib.request.Request(
                url,
                data=body,
                method="POST",
                headers={"Content-Type": "application/json", "Authorization": "Bearer s3cret"},
            )
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            with opener.open(req, timeout=10) as response:
                assert response.status == 200

        async def main() -> bytes:
            poster = asyncio.get_running_loop().run_in_executor(None, post)
            value = await aio.await_promise(pid, 20, worker=worker)
            await poster
            return value

        assert asyncio.run(main()) == b"via http"

