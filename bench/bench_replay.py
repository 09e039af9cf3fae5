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
oplog.  The replay must return the same results and write nothing; issue 6's target is a long
oplog replayed at least 10 times faster than the live run that wrote it, on a file host (what a
durable worker uses).  Modes: file hosts with synchronous FULL (the default of a file host; its
live run waits for an fsync per call, so it runs ``--full-calls`` calls, 10,000 by default) and
NORMAL, and an in-memory host.  Each mode runs ``--repeats`` times (FULL ``--full-repeats``) on
fresh workers and the best wall time of each phase is reported, with its CPU time.

When the C twin ``gp_bench_replay`` is found (``--c-bench``, default
build-bench/bench/gp_bench_replay) or its output is given (``--c-results``), each mode also shows
the C ABI's replayed call and the share of a replayed Python call spent above the C ABI.

``--profile`` also runs the replay under cProfile and prints where the time goes; ``--floor``
times the same loop against a do-nothing stand-in worker, the cost of the Python loop alone.
Lines starting with ``RESULT`` are machine-readable.  Exits 0 unless a check fails; skips (exit
0) when golem_promise is not importable.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional, Tuple

Timing = Tuple[float, float]  # (wall seconds, CPU seconds)

try:
    from golem_promise import ComponentId, Host, Uuid
except ImportError as exc:  # pragma: no cover - depends on the environment
    print(f"bench_replay.py: skipped: golem_promise is not importable ({exc}).")
    sys.exit(0)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPONENT = ComponentId(Uuid(0x1A2B3C4D00004000, 0x80000000000BEEF))
MODE_NAME = {"memory": "memory", "normal": "file-normal", "full": "file-full"}
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


def find_c_bench(given: Optional[str]) -> Optional[str]:
    for candidate in (given, os.path.join(ROOT, "build-bench", "bench", "gp_bench_replay"),
                      shutil.which("gp_bench_replay")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def c_figures(results: Optional[str], c_bench: Optional[str], calls: int, full_calls: int,
              directory: str) -> Dict[str, Dict[str, float]]:
    """RESULT replay_c lines of gp_bench_replay (from a file, or by running it for these sizes)."""
    text = ""
    if results and os.path.exists(results):
        with open(results) as f:
            text = f.read()
    elif c_bench:
        args = [c_bench, "--calls", str(calls), "--full-calls", str(full_calls), "--dir", directory]
        print(f"running {' '.join(args)} for the C ABI figures ...", flush=True)
        text = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    out: Dict[str, Dict[str, float]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[:2] == ["RESULT", "replay_c"]:
            fields = dict(p.split("=", 1) for p in parts[2:])
            mode = fields.pop("mode")
            out[mode] = {k: float(v) for k, v in fields.items()}
    return out


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000, help="host calls per run (default 100000)")
    parser.add_argument("--full-calls", type=int, default=10_000,
                        help="host calls per run of the FULL mode (default 10000)")
    parser.add_argument("--modes", nargs="+", default=["full", "normal", "memory"], choices=["memory", "normal", "full"])
    parser.add_argument("--dir", default=None, help="directory for file hosts (default: a temp dir)")
    parser.add_argument("--repeats", type=int, default=3, help="runs per mode; the best is reported (default 3)")
    parser.add_argument("--full-repeats", type=int, default=1, help="runs of the FULL mode (default 1)")
    parser.add_argument("--quick", action="store_true", help="2000 calls (FULL 500), 1 repeat: a smoke test")
    parser.add_argument("--c-bench", help="path of gp_bench_replay (default: build-bench/bench/gp_bench_replay)")
    parser.add_argument("--c-results", help="gp_bench_replay output to take the C ABI figures from")
    parser.add_argument("--profile", action="store_true", help="cProfile the replay")
    parser.add_argument("--floor", action="store_true", help="time the loop against a do-nothing worker")
    args = parser.parse_args(argv)
    if args.quick:
        args.calls, args.full_calls, args.repeats, args.full_repeats = 2000, 500, 1, 1
    cycles = max(1, args.calls // CALLS_PER_CYCLE)
    full_cycles = max(1, args.full_calls // CALLS_PER_CYCLE)

    print(f"bench_replay: {cycles * CALLS_PER_CYCLE} host calls per run (cycles of create, complete, poll, await, "
          f"get-oplog-index; FULL: {full_cycles * CALLS_PER_CYCLE}, its live run waits for an fsync per call)")
    if args.floor:
        t0 = time.perf_counter()
        workload(_Floor(), cycles)
        floor = time.perf_counter() - t0
        calls = cycles * CALLS_PER_CYCLE
        print(f"  floor (Python loop, no library): {floor:.3f} s, {floor / calls * 1e6:.2f} us/call")
        print(f"RESULT replay mode=floor seconds={floor:.4f}")

    ratios: Dict[str, Tuple[float, int]] = {}
    with tempfile.TemporaryDirectory(dir=args.dir) as directory:
        c = c_figures(args.c_results, find_c_bench(args.c_bench), cycles * CALLS_PER_CYCLE,
                      full_cycles * CALLS_PER_CYCLE, args.dir or directory)
        for mode in args.modes:
            n = full_cycles if mode == "full" else cycles
            calls = n * CALLS_PER_CYCLE
            repeats = args.full_repeats if mode == "full" else args.repeats
            (live, live_cpu), (replay, replay_cpu) = run_mode(mode, n, directory, repeats, args.profile)
            ratio = live / replay
            name = MODE_NAME[mode]
            ratios[name] = (ratio, calls)
            verdict = "ok" if ratio >= TARGET_RATIO else f"below {TARGET_RATIO:.0f}x"
            print(f"  {name:12s} live {live:7.3f} s ({live / calls * 1e6:7.2f} us/call)   "
                  f"replay {replay:7.3f} s ({replay / calls * 1e6:5.2f} us/call)   "
                  f"ratio {ratio:6.1f}x  {verdict}   (CPU time: live {live_cpu:.3f} s, "
                  f"replay {replay_cpu:.3f} s, ratio {live_cpu / replay_cpu:.1f}x)")
            extra = ""
            cm = c.get(name)
            if cm and cm["calls"] == calls:
                c_us = cm["replay_cpu_s"] / calls * 1e6
                py_us = replay_cpu / calls * 1e6
                share = max(0.0, 1 - c_us / py_us)
                print(f"  {'':12s} C ABI (gp_bench_replay, same calls): live {cm['live_s'] / calls * 1e6:7.2f} us/call, "
                      f"replay {cm['replay_s'] / calls * 1e6:5.2f} us/call, ratio {cm['ratio']:.1f}x; "
                      f"above the C ABI: {100 * share:.0f}% of a replayed Python call's CPU time")
                extra = f" c_ratio={cm['ratio']:.2f} python_share={share:.3f}"
            print(f"RESULT replay mode={name} calls={calls} live_s={live:.4f} replay_s={replay:.4f} "
                  f"ratio={ratio:.2f} live_cpu_s={live_cpu:.4f} replay_cpu_s={replay_cpu:.4f}{extra}", flush=True)
    files = [(name, r, calls) for name, (r, calls) in ratios.items() if name != "memory"]
    if files:
        met = all(r >= TARGET_RATIO for _, r, _ in files)
        shown = "; ".join(f"{name} {r:.1f}x ({calls} calls)" for name, r, calls in files)
        print(f"issue 6 target, a long oplog replays >= {TARGET_RATIO:.0f}x faster than the live run that wrote it, "
              f"on a file host, through Python: {shown}; {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
