#!/usr/bin/env python3
"""Replay speed: a worker function making 100,000 host calls, run live and then replayed.

The function repeats a five-call cycle (20,000 times by default)::

    pid = worker.create_promise()
    worker.complete_promise(pid, payload)
    worker.poll_promise(pid)
    worker.await_promise(pid)
    worker.get_oplog_index()

It is timed live on a fresh worker (each call runs against SQLite and appends one oplog entry),
then ``worker.restart()`` and the same function is timed again, every call answered from the
oplog.  The replay must return the same results and write nothing; the target is a replay at
least 10 times faster than the live run.  Modes: an in-memory host, and file hosts with
synchronous NORMAL and (with ``--modes ... full``) FULL.  Each mode runs ``--repeats`` times on
fresh workers and the best wall time of each phase is reported, with its CPU time.

``--profile`` also runs the replay under cProfile and prints where the time goes; ``--floor``
times the same loop against a do-nothing stand-in worker, the cost of the Python loop alone.
Lines starting with ``RESULT`` are machine-readable.  Skips (exit 0) when golem_promise is not
importable.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from typing import Any, List, Optional, Tuple

Timing = Tuple[float, float]  # (wall seconds, CPU seconds)

try:
    from golem_promise import ComponentId, Host, Uuid
except ImportError as exc:  # pragma: no cover - depends on the environment
    print(f"bench_replay.py: skipped: golem_promise is not importable ({exc}).")
    sys.exit(0)

COMPONENT = ComponentId(Uuid(0x1A2B3C4D00004000, 0x80000000000BEEF))
CALLS_PER_CYCLE = 5
TARGET_RATIO = 10.0
PAYLOAD = b'{"approved":true,"by":"bench"}'


def workload(worker: Any, cycles: int) -> int:
    """The worker function: CALLS_PER_CYCLE host calls per cycle; returns a digest of results."""
    digest = 0
    create, complete = worker.create_promise, worker.complete_promise
    poll, await_, index = worker.poll_promise, worker.await_promise, worker.get_oplog_index
    for _ in range(cycles):
        pid = create()
        complete(pid, PAYLOAD)
        poll(pid)
        digest = (digest * 31 + len(await_(pid)) + index() + pid.oplog_idx) & 0xFFFFFFFF
    return digest


class _Floor:
    """A stand-in worker whose calls do nothing: the cost of the loop and call dispatch."""

    class _Pid:
        oplog_idx = 1

    _pid = _Pid()

    def create_promise(self) -> Any:
        return self._pid

    def complete_promise(self, pid: Any, data: bytes) -> bool:
        return True

    def poll_promise(self, pid: Any) -> Optional[bytes]:
        return PAYLOAD

    def await_promise(self, pid: Any) -> bytes:
        return PAYLOAD

    def get_oplog_index(self) -> int:
        return 1


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", "-gpwake"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def run_mode(mode: str, cycles: int, directory: str, repeats: int, profile: bool) -> Tuple[Timing, Timing]:
    """Times the live run and the replay in one mode, best of ``repeats`` (each on a fresh
    worker); returns (live, replay) as (wall seconds, CPU seconds)."""
    path = ":memory:" if mode == "memory" else os.path.join(directory, f"bench-replay-{mode}-{os.getpid()}.db")
    if path != ":memory:":
        remove_db(path)
    sync = "normal" if mode == "memory" else mode
    live: List[Timing] = []
    replay: List[Timing] = []
    try:
        with Host(path, synchronous=sync) as host:
            for r in range(repeats):
                worker = host.worker(COMPONENT, f"bench-replay-{mode}-{r}")
                t0, c0 = time.perf_counter(), time.process_time()
                live_digest = workload(worker, cycles)
                live.append((time.perf_counter() - t0, time.process_time() - c0))
                entries = len(host.oplog(worker.worker_id))
                assert entries == 1 + CALLS_PER_CYCLE * cycles, entries

                worker.restart()
                assert worker.is_replaying
                t0, c0 = time.perf_counter(), time.process_time()
                replay_digest = workload(worker, cycles)
                replay.append((time.perf_counter() - t0, time.process_time() - c0))
                assert replay_digest == live_digest, "the replay returned other results"
                assert not worker.is_replaying and worker.oplog_position == entries
                assert len(host.oplog(worker.worker_id)) == entries, "the replay wrote entries"

            if profile:
                worker.restart()
                prof = cProfile.Profile()
                prof.runcall(workload, worker, cycles)
                print(f"--- cProfile of the replay ({mode}), by own time")
                pstats.Stats(prof).sort_stats("tottime").print_stats(8)
    finally:
        if path != ":memory:":
            remove_db(path)
    return min(live), min(replay)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="host calls per run (default 100000)")
    parser.add_argument("--modes", nargs="+", default=["memory", "normal"], choices=["memory", "normal", "full"])
    parser.add_argument("--dir", default=None, help="directory for file hosts (default: a temp dir)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode; the best is reported (default 3)")
    parser.add_argument("--profile", action="store_true", help="cProfile the replay")
    parser.add_argument("--floor", action="store_true", help="time the loop against a do-nothing worker")
    args = parser.parse_args(argv)
    cycles = max(1, args.calls // CALLS_PER_CYCLE)
    calls = cycles * CALLS_PER_CYCLE

    print(f"bench_replay: {calls} host calls ({cycles} cycles of create, complete, poll, await, get-oplog-index)")
    if args.floor:
        t0 = time.perf_counter()
        workload(_Floor(), cycles)
        floor = time.perf_counter() - t0
        print(f"  floor (Python loop, no library): {floor:.3f} s, {floor / calls * 1e6:.2f} us/call")
        print(f"RESULT replay mode=floor seconds={floor:.4f}")

    missed = False
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        for mode in args.modes:
            (live, live_cpu), (replay, replay_cpu) = run_mode(mode, cycles, directory, args.repeats, args.profile)
            ratio = live / replay
            name = "memory" if mode == "memory" else f"file-{mode}"
            verdict = "ok" if ratio >= TARGET_RATIO else f"MISSED (target {TARGET_RATIO:.0f}x)"
            print(f"  {name:12s} live {live:7.3f} s ({live / calls * 1e6:6.2f} us/call)   "
                  f"replay {replay:7.3f} s ({replay / calls * 1e6:6.2f} us/call)   "
                  f"ratio {ratio:5.1f}x  {verdict}   (CPU time: live {live_cpu:.3f} s, "
                  f"replay {replay_cpu:.3f} s, ratio {live_cpu / replay_cpu:.1f}x)")
            print(f"RESULT replay mode={name} calls={calls} live_s={live:.4f} replay_s={replay:.4f} "
                  f"ratio={ratio:.2f} live_cpu_s={live_cpu:.4f} replay_cpu_s={replay_cpu:.4f}")
            missed = missed or ratio < TARGET_RATIO
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
