"""10,000 concurrent asyncio awaits completed from another thread, next to plain asyncio.Futures.

Measures, for N waiting coroutines in one event loop:
  - time from the first completion to all coroutines woken,
  - memory per waiting coroutine while they wait: Python heap (tracemalloc) and, since the C
    handles live outside Python's allocator, the process's RSS growth too.

Rows: plain asyncio.Future set with call_soon_threadsafe (the floor); golem_promise.aio host-level
waits (record nothing); worker-level waits (each finished await writes one oplog entry).  Each
row runs --repeat times, each run in a fresh process (the rows interleaved); the table shows
the median run (time to all woken, best in parentheses), and one ``RESULT aio ...`` line per row
gives the figures for bench/run.sh's summary.

Run:  python bench/bench_aio.py [N] [--repeat R] [--quick]      (N = 10000, R = 3 by default)
      python bench/bench_aio.py [N] --steady RATE                 (a steady stream of completions:
                                                                   the loop's CPU share and wake-up
                                                                   latency, scans paced and unpaced)
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import resource
import subprocess
import sys
import threading
import time
import tracemalloc
from typing import Any, Awaitable, Callable, Dict, List, NamedTuple

import golem_promise as gp
from golem_promise import _waits, aio


class Run(NamedTuple):
    """One run of a row: seconds from the first completion to all woken, bytes per waiting
    coroutine (Python heap, RSS growth), the process's OS threads while they all wait, and how
    long the completing thread took for its N completions (a floor for ``elapsed``)."""

    elapsed: float
    heap: float
    rss: float
    threads: int
    completing: float


def _rss_kib() -> int:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() // 1024


def _os_threads() -> int:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("Threads:"))


async def _measure(
    n: int,
    start_waits: Callable[[], List[Awaitable[Any]]],
    complete_all: Callable[[], None],
) -> Run:
    gc.collect()
    rss0 = _rss_kib()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.ensure_future(w) for w in start_waits()]
    await asyncio.sleep(0.2)  # every coroutine is now parked on its wait
    heap = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    rss = (_rss_kib() - rss0) * 1024
    threads = _os_threads()
    completed = [0.0]

    def completer() -> None:
        complete_all()
        completed[0] = time.perf_counter()

    started = time.perf_counter()
    thread = threading.Thread(target=completer)
    thread.start()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    thread.join()
    return Run(elapsed, heap / n, rss / n, threads, completed[0] - started)


async def plain_futures(n: int) -> Run:
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


async def golem(n: int, level: str) -> Run:
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


async def _call(run: Callable[[], Awaitable[Run]]) -> Run:
    return await run()


ROWS = {
    "future": "asyncio.Future (call_soon_threadsafe)",
    "aio-host": "golem_promise.aio, host-level",
    "aio-worker": "golem_promise.aio, worker (recorded)",
}


def _measure_row(key: str, n: int) -> Run:
    run: Callable[[], Awaitable[Run]]
    if key == "future":
        run = lambda: plain_futures(n)  # noqa: E731
    else:
        run = lambda: golem(n, "host" if key == "aio-host" else "worker")  # noqa: E731
    return asyncio.run(_call(run))


def _in_fresh_process(key: str, n: int) -> Run:
    """One run of a row in a new interpreter, so no run reuses memory an earlier one freed."""
    proc = subprocess.run([sys.executable, __file__, str(n), "--one", key], capture_output=True, text=True,
                          check=True)
    elapsed, heap, rss, threads, completing = proc.stdout.split()
    return Run(float(elapsed), float(heap), float(rss), int(threads), float(completing))


def steady(n: int, rate: float, count: int, pace: float) -> str:
    """N host-level waits; `count` of them completed one at a time at `rate` per second from
    another thread: the loop's CPU share and each completion's wake-up latency."""
    _waits.SCAN_PACE = pace  # the watchers read it where they live (aio shows it)
    host = gp.Host(":memory:")
    worker = host.worker(gp.ComponentId(gp.Uuid(1, 2)), "steady")
    pids = [worker.create_promise() for _ in range(n)]
    sent: dict[int, float] = {}
    woke: dict[int, float] = {}

    async def one(i: int, pid: gp.PromiseId) -> None:
        await aio.await_promise(pid, 600, host=host)
        woke[i] = time.monotonic()

    def stream() -> None:
        for i in range(count):
            sent[i] = time.monotonic()
            host.complete_promise(pids[i], b"x")
            time.sleep(1 / rate)

    async def run() -> str:
        tasks = [asyncio.create_task(one(i, p)) for i, p in enumerate(pids)]
        await asyncio.sleep(0.2)
        cpu, wall = time.process_time(), time.monotonic()
        completer = threading.Thread(target=stream)
        completer.start()
        while len(woke) < count:
            await asyncio.sleep(0.01)
        completer.join()
        cpu, wall = time.process_time() - cpu, time.monotonic() - wall
        for t in tasks[count:]:
            t.cancel()
        await asyncio.gather(*tasks[count:], return_exceptions=True)
        lat = sorted((woke[i] - sent[i]) * 1000 for i in range(count))
        return (f"cpu={100 * cpu / wall:.0f}% wake_p50_ms={lat[count // 2]:.2f} "
                f"wake_p99_ms={lat[min(count - 1, count * 99 // 100)]:.2f}")

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=10_000, help="concurrent awaits (10000)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each row; the median is shown (3)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 1,000 awaits, one run")
    parser.add_argument("--one", choices=sorted(ROWS), help=argparse.SUPPRESS)  # a single run, internal
    parser.add_argument("--steady", type=float, metavar="RATE",
                        help="instead: N waits, 400 of them completed one at a time at RATE/s; the loop's "
                             "CPU share and wake-up latency with scans paced (aio.SCAN_PACE) and unpaced")
    parser.add_argument("--pace", type=float, help=argparse.SUPPRESS)  # one --steady run, internal
    args = parser.parse_args()
    if args.one:
        print(*_measure_row(args.one, args.n))
        return
    if args.steady is not None:
        if args.pace is not None:
            print(steady(args.n, args.steady, 400, args.pace))
            return
        print(f"{args.n} waiting coroutines, 400 of them completed one at a time at {args.steady:g}/s "
              f"from another thread (each run in a fresh process)")
        for pace in (aio.SCAN_PACE, 0.0):
            out = subprocess.run([sys.executable, __file__, str(args.n), "--steady", str(args.steady),
                                  "--pace", str(pace)], capture_output=True, text=True, check=True).stdout
            label = "paced (default)" if pace else "unpaced (a scan per change)"
            print(f"  {label:30} {out.strip()}")
            print(f"RESULT aio steady pace={pace:g} n={args.n} rate={args.steady:g} {out.strip()}")
        return
    n, repeat = (1_000, 1) if args.quick else (args.n, max(1, args.repeat))
    print(f"{n} concurrent awaits in one event loop, completed from another thread; each run in a "
          f"fresh process, median of {repeat} run{'s' if repeat > 1 else ''} (best time in parentheses)")
    print(f"{'':40} {'all woken':>10} {'(best)':>11} {'completing':>11} {'py heap/wait':>13} {'RSS/wait':>10} "
          f"{'threads':>8}")
    measured: Dict[str, List[Run]] = {key: [] for key in ROWS}
    for _ in range(repeat):  # interleaved, so a busy spell on a shared machine hits every row
        for key in ROWS:
            measured[key].append(_in_fresh_process(key, n))
    results = []
    for key, name in ROWS.items():
        runs = sorted(measured[key], key=lambda r: r.elapsed)
        median, best = runs[len(runs) // 2], runs[0].elapsed
        results.append((key, median, best))
        print(f"{name:40} {median.elapsed * 1000:8.1f} ms ({best * 1000:6.1f} ms) {median.completing * 1000:8.1f} ms "
              f"{median.heap:9.0f} B {median.rss:8.0f} B {median.threads:8d}")
    print("(completing: how long the other thread took to complete all N; threads: the process's OS threads")
    print(" while every coroutine waits)")
    future_s = results[0][1].elapsed
    for key, r, best in results:
        print(f"RESULT aio {key} n={n} runs={repeat} woken_ms={r.elapsed * 1000:.2f} best_ms={best * 1000:.2f} "
              f"heap_b={r.heap:.0f} rss_b={r.rss:.0f} threads={r.threads} completing_ms={r.completing * 1000:.2f} "
              f"vs_future={r.elapsed / future_s:.2f}")


if __name__ == "__main__":
    main()
