"""10,000 concurrent asyncio awaits completed from another thread, next to plain asyncio.Futures.

Measures, for N waiting coroutines in one event loop:
  - time from the first completion to all coroutines woken,
  - memory per waiting coroutine while they wait: Python heap (tracemalloc) and, since the C
    handles live outside Python's allocator, the process's RSS growth too.

Rows: plain asyncio.Future set with call_soon_threadsafe (the floor); golem_promise.aio host-level
waits (record nothing); worker-level waits (each finished await writes one oplog entry).

Run:  python bench/bench_aio.py [N]
"""

from __future__ import annotations

import asyncio
import gc
import resource
import sys
import threading
import time
import tracemalloc
from typing import Any, Awaitable, Callable, List, Tuple

import golem_promise as gp
from golem_promise import aio


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() // 1024


async def _measure(
    n: int,
    start_waits: Callable[[], List[Awaitable[Any]]],
    complete_all: Callable[[], None],
) -> Tuple[float, float, float]:
    gc.collect()
    rss0 = _rss_kib()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.ensure_future(w) for w in start_waits()]
    await asyncio.sleep(0.2)  # every coroutine is now parked on its wait
    heap = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    rss = (_rss_kib() - rss0) * 1024
    started = time.perf_counter()
    thread = threading.Thread(target=complete_all)
    thread.start()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    thread.join()
    return elapsed, heap / n, rss / n


async def plain_futures(n: int) -> Tuple[float, float, float]:
    loop = asyncio.get_running_loop()
    futures: List[asyncio.Future[bytes]] = []

    async def wait(f: asyncio.Future[bytes]) -> bytes:
        return await f

    def start() -> List[Awaitable[Any]]:
        futures.extend(loop.create_future() for _ in range(n))
        return [wait(f) for f in futures]

    def complete_all() -> None:
        for f in futures:
            loop.call_soon_threadsafe(f.set_result, b"x")

    return await _measure(n, start, complete_all)


async def golem(n: int, level: str) -> Tuple[float, float, float]:
    host = gp.Host(":memory:")
    worker = host.worker(gp.ComponentId(gp.Uuid(0, 1)), "bench")
    pids = [worker.create_promise() for _ in range(n)]

    def start() -> List[Awaitable[Any]]:
        if level == "worker":
            return [aio.await_promise(p, worker=worker) for p in pids]
        return [aio.await_promise(p, host=host) for p in pids]

    def complete_all() -> None:
        for p in pids:
            host.complete_promise(p, b"x")

    try:
        return await _measure(n, start, complete_all)
    finally:
        host.close()


async def _call(run: Callable[[], Awaitable[Tuple[float, float, float]]]) -> Tuple[float, float, float]:
    return await run()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    rows: List[Tuple[str, Callable[[], Awaitable[Tuple[float, float, float]]]]] = [
        ("asyncio.Future (call_soon_threadsafe)", lambda: plain_futures(n)),
        ("golem_promise.aio, host-level", lambda: golem(n, "host")),
        ("golem_promise.aio, worker (recorded)", lambda: golem(n, "worker")),
    ]
    print(f"{n} concurrent awaits in one event loop, completed from another thread; threads "
          f"before: {threading.active_count()}")
    print(f"{'':40} {'all woken':>10} {'py heap/wait':>13} {'RSS/wait':>10}")
    for name, run in rows:
        elapsed, heap, rss = asyncio.run(_call(run))
        print(f"{name:40} {elapsed * 1000:8.1f} ms {heap:9.0f} B {rss:8.0f} B")
    print(f"threads after: {threading.active_count()}")


if __name__ == "__main__":
    main()
