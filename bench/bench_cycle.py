#!/usr/bin/env python3
"""Throughput of the promise cycle through the golem_promise Python package.

One cycle: the worker creates a promise, the host completes it with a small payload, the worker
awaits it::

    pid = worker.create_promise(); host.complete_promise(pid, data); worker.await_promise(pid)

measured for an in-memory host and for file hosts (WAL, synchronous NORMAL and FULL), next to:

* raw sqlite3: Python's stdlib ``sqlite3`` running the statements the core runs for that cycle
  (the same SQL text, transactions, pragmas, and a copy of a fresh golem-promise database, so the
  same schema), with the oplog blobs being real FlatBuffers entries captured from golem-promise and
  passed as they are (not encoded per call; a clock read stands in for the timestamp).  When the C
  bench (gp_bench_cycle) is available its ``--statements`` trace of the core is compared with
  what this raw cycle runs, and a mismatch stops the run.
* the C ABI figure of gp_bench_cycle (from ``--c-results FILE``, or by running the binary).

Skips (exit 0) with a message when golem_promise is not importable.  Lines starting with
``RESULT`` are for bench/run.sh.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPONENT = "1a2b3c4d-0000-4000-8000-00000000beef"
WORKER_NAME = "bench-worker"
MODES = ("memory", "normal", "full")
MODE_NAME = {"memory": "memory", "normal": "file-normal", "full": "file-full"}
TARGET = 40_000  # cycles/s through Python, in memory

try:
    import golem_promise
    from golem_promise import Host
except ImportError as exc:  # pragma: no cover - depends on the environment
    print(f"bench_cycle.py: skipped: golem_promise is not importable ({exc}).")
    print("  Install it first, e.g. `pip install /work/main` (or `make bench`, which does).")
    sys.exit(0)


# --------------------------------------------------------------------------- helpers


def db_path(directory: str, tag: str) -> str:
    return os.path.join(directory, f"gp-bench-py-{tag}-{os.getpid()}.db")


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", "-gpwake"):
        try:
            os.unlink(path + suffix)
        except FileNotFoundError:
            pass


def open_ours(path: str, mode: str) -> Tuple[Host, "golem_promise.Worker"]:
    host = Host(path, synchronous="full" if mode == "full" else "normal")
    return host, host.worker(COMPONENT, WORKER_NAME)


def ours_cycles(host: Host, worker: "golem_promise.Worker", n: int, data: bytes) -> None:
    create, complete, await_ = worker.create_promise, host.complete_promise, worker.await_promise
    for _ in range(n):
        pid = create()
        complete(pid, data)
        await_(pid)


def module_cycles(worker: "golem_promise.Worker", n: int, data: bytes) -> None:
    """The module-level functions; here the worker completes (an oplog entry more per cycle)."""
    create, complete, await_ = (
        golem_promise.create_promise,
        golem_promise.complete_promise,
        golem_promise.await_promise,
    )
    with worker:
        for _ in range(n):
            pid = create()
            complete(pid, data)
            await_(pid)


# --------------------------------------------------------------------------- raw sqlite3

# The statements of the cycle, spelled exactly as in core/ (see bench/bench_cycle.c).
BEGIN = "BEGIN IMMEDIATE"
COMMIT = "COMMIT"
LAST_IDX = "SELECT coalesce(max(key) - ?1, 0) FROM oplog WHERE key BETWEEN ?1 AND ?2"
INS_OPLOG = "INSERT INTO oplog (key, kind, entry, state) VALUES (?1, ?2, ?3, ?4)"
LOOKUP = "SELECT state FROM oplog WHERE key = ?1 AND state IS NOT NULL"
LOOKUP_PAYLOAD = (
    "SELECT state, length(payload), CASE WHEN length(payload) <= 65536 THEN payload END "
    "FROM oplog WHERE key = ?1 AND state IS NOT NULL"
)
COMPLETE = "UPDATE oplog SET state = 1, payload = ?2 WHERE key = ?1"
COMPLETE_PENDING = "UPDATE oplog SET state = 1, payload = ?2 WHERE key = ?1 AND state = 0"

Execute = Callable[..., sqlite3.Cursor]

# An in-memory host keeps one transaction open and commits it once every this many changed rows
# (kMemoryCommitEvery in core/host.hpp).  Replaced by the figure gp_bench_cycle's check reports
# whenever that binary is available (its check compares the core's cadence with its own raw one).
MEMORY_COMMIT_EVERY = 1024

# The pragmas Host::open runs per mode.  Replaced by the ones gp_bench_cycle traces from the core
# (its OPEN lines) whenever that binary is available.
PRAGMAS: Dict[str, List[str]] = {
    "memory": ["PRAGMA page_size = 2048", "PRAGMA application_id = 1196446257", "PRAGMA user_version = 2"],
    "normal": ["PRAGMA application_id = 1196446257", "PRAGMA user_version = 2",
               "PRAGMA journal_mode = WAL", "PRAGMA synchronous = NORMAL"],
    "full": ["PRAGMA application_id = 1196446257", "PRAGMA user_version = 2",
             "PRAGMA journal_mode = WAL", "PRAGMA synchronous = FULL"],
}


class Raw:
    """One connection replaying the core's statements for the cycle."""

    def __init__(self, path: str, mode: str, template: str, entries: Dict[int, bytes]) -> None:
        # isolation_level=None: we issue BEGIN IMMEDIATE / COMMIT ourselves, as the core does.
        self.con = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        for pragma in PRAGMAS[mode]:
            self.con.execute(pragma)
        copy_template(self.con, template)
        self.memory = mode == "memory"
        if self.memory:
            self.con.execute("BEGIN")
        self.committed = self.con.total_changes
        self.worker: int = self.con.execute("SELECT id FROM workers").fetchone()[0]
        # The core caches a worker's next oplog index only for in-memory hosts.
        self.next: int = self.con.execute("SELECT coalesce(max(idx), 0) + 1 FROM oplog").fetchone()[0]
        self.entry_create, self.entry_await = entries[2], entries[5]

    def close(self) -> None:
        self.con.close()

    def settle(self, ex: Execute) -> None:
        """What the core does before each statement of an in-memory host: commit the open
        transaction and begin the next once it holds enough changed rows."""
        if self.con.total_changes - self.committed >= MEMORY_COMMIT_EVERY:
            ex(COMMIT)
            ex("BEGIN")
            self.committed = self.con.total_changes

    def next_idx(self, ex: Execute) -> int:
        if self.memory:
            return self.next
        base = self.worker << 40
        last: int = ex(LAST_IDX, (base, base | ((1 << 40) - 1))).fetchone()[0]
        return last + 1

    def append(self, ex: Execute, idx: int, kind: int, blob: bytes) -> None:
        time.time_ns()  # ours reads the clock for the entry's timestamp
        if self.memory:
            self.settle(ex)
        # a create-promise entry's row is also the pending promise
        ex(INS_OPLOG, ((self.worker << 40) | idx, kind, blob, 0 if kind == 2 else None))
        if self.memory:
            self.next = idx + 1

    def cycles(self, n: int, data: bytes, ex: Optional[Execute] = None,
               marks: Optional[List[int]] = None, log: Optional[List[str]] = None) -> None:
        ex = ex or self.con.execute
        worker = self.worker
        for _ in range(n):
            if marks is not None and log is not None:
                marks.append(len(log))
            # create: one INSERT; a file wraps the index lookup with it in a write transaction,
            # memory runs it in the open transaction
            if not self.memory:
                ex(BEGIN)
            idx = self.next_idx(ex)
            self.append(ex, idx, 2, self.entry_create)
            key = (worker << 40) | idx
            if not self.memory:
                ex(COMMIT)
            if marks is not None and log is not None:
                marks.append(len(log))
            # complete (host): in memory one statement that only matches a pending row; on a
            # file a lookup and an update in one write transaction
            if self.memory:
                self.settle(ex)
                if ex(COMPLETE_PENDING, (key, data)).rowcount != 1:
                    raise RuntimeError("raw: complete changed nothing")
            else:
                ex(BEGIN)
                if ex(LOOKUP, (key,)).fetchone()[0] != 0:
                    raise RuntimeError("raw: not pending")
                ex(COMPLETE, (key, data))
                ex(COMMIT)
            if marks is not None and log is not None:
                marks.append(len(log))
            # await (worker): on a file an unlocked look, then read and record in one write
            # transaction; in memory both run in the open transaction (committed periodically)
            if not self.memory:
                if ex(LOOKUP, (key,)).fetchone()[0] != 1:
                    raise RuntimeError("raw: not completed")
                ex(BEGIN)
            else:
                self.settle(ex)
            state, _length, payload = ex(LOOKUP_PAYLOAD, (key,)).fetchone()
            if state != 1:
                raise RuntimeError("raw: not completed")
            payload = bytes(payload)
            self.append(ex, self.next_idx(ex), 5, self.entry_await)
            if not self.memory:
                ex(COMMIT)
            if marks is not None and log is not None:
                marks.append(len(log))


def make_template(directory: str) -> str:
    """A fresh golem-promise database file with the bench worker (schema, worker row, entry 1)."""
    path = db_path(directory, "template")
    remove_db(path)
    host, _ = open_ours(path, "normal")
    host.close()
    return path


def copy_template(con: sqlite3.Connection, template: str) -> None:
    """Creates the template's tables and indexes in con and copies their rows."""
    con.execute("ATTACH ? AS tpl", (template,))
    con.execute("BEGIN")
    rows = con.execute("SELECT type, name, sql FROM tpl.sqlite_master WHERE sql NOT NULL "
                       "ORDER BY type = 'index', rowid").fetchall()
    for kind, name, sql in rows:
        con.execute(sql)
        if kind == "table":
            con.execute(f'INSERT INTO main."{name}" SELECT * FROM tpl."{name}"')
    con.execute("COMMIT")
    con.execute("DETACH tpl")


def capture_entries(directory: str, data: bytes) -> Dict[int, bytes]:
    """Real oplog entries of kinds create-promise (2) and await-promise (5)."""
    path = db_path(directory, "capture")
    remove_db(path)
    host, worker = open_ours(path, "normal")
    ours_cycles(host, worker, 3, data)
    host.close()
    con = sqlite3.connect(path)
    rows = con.execute("SELECT kind, entry FROM oplog WHERE kind IN (2, 5) ORDER BY idx DESC LIMIT 2").fetchall()
    con.close()
    remove_db(path)
    return {kind: bytes(entry) for kind, entry in rows}


def check_statements(c_bench: Optional[str], directory: str, template: str,
                     entries: Dict[int, bytes], data: bytes) -> str:
    """Compares this raw cycle's SQL, call by call, with the core's trace from gp_bench_cycle,
    and takes the pragmas the core sets at open from it."""
    if not c_bench:
        return ("statement check skipped (gp_bench_cycle not found; build it or pass --c-bench);\n"
                "  raw uses the built-in pragma list")
    out = subprocess.run([c_bench, "--statements", "--dir", directory], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"bench_cycle.py: `{c_bench} --statements` failed:\n{out.stderr}")
    core: Dict[Tuple[str, str], List[str]] = {}
    pragmas: Dict[str, List[str]] = {}
    global MEMORY_COMMIT_EVERY
    cadence = re.search(r"committed every (\d+) writes", out.stdout)
    if cadence:
        MEMORY_COMMIT_EVERY = int(cadence.group(1))
    for line in out.stdout.splitlines():
        m = re.match(r"STMT (\w+) (\w+) (.*)$", line)
        if m:
            core.setdefault((m.group(1), m.group(2)), []).append(m.group(3))
        m = re.match(r"OPEN (\w+) (.*)$", line)
        if m:
            pragmas.setdefault(m.group(1), []).append(m.group(2))
    PRAGMAS.update(pragmas)
    for mode in ("memory", "normal"):
        path = ":memory:" if mode == "memory" else db_path(directory, "check")
        if mode != "memory":
            remove_db(path)
        raw = Raw(path, mode, template, entries)
        raw.cycles(2, data)
        log: List[str] = []
        marks: List[int] = []

        def recording(sql: str, params: Tuple[object, ...] = (), _raw: Raw = raw) -> sqlite3.Cursor:
            log.append(sql)
            return _raw.con.execute(sql, params)

        raw.cycles(1, data, recording, marks, log)
        raw.close()
        if mode != "memory":
            remove_db(path)
        # In memory COMMIT and BEGIN are the periodic commit, which falls wherever the count of
        # changed rows says (gp_bench_cycle checks that cadence): left out of the comparison.
        periodic = ("COMMIT", "BEGIN") if mode == "memory" else ()
        for i, call in enumerate(("create", "complete", "await")):
            mine = [q for q in log[marks[i]:marks[i + 1]] if q not in periodic]
            theirs = [q for q in core.get((mode, call), []) if q not in periodic]
            if mine != theirs:
                sys.exit(
                    f"bench_cycle.py: the raw sqlite3 cycle no longer runs the core's statements "
                    f"({MODE_NAME[mode]} host, {call}); update bench/bench_cycle.py.\n  core: "
                    + "\n        ".join(theirs) + "\n  raw:  " + "\n        ".join(mine)
                )
    return ("checked: raw sqlite3 runs the core's statements, call by call (memory and file),\n"
            "  after the pragmas the core sets at open (traced by gp_bench_cycle); in memory in one\n"
            f"  open transaction committed every {MEMORY_COMMIT_EVERY} changed rows, as the core")


# --------------------------------------------------------------------------- timing


def timed(fn: Callable[[int], None], n: int) -> float:
    fn(n // 10 + 1)  # warm-up on the same connection
    t0 = time.perf_counter()
    fn(n)
    return n / (time.perf_counter() - t0)


def run_ours(mode: str, n: int, directory: str, data: bytes) -> float:
    path = ":memory:" if mode == "memory" else db_path(directory, "ours")
    if mode != "memory":
        remove_db(path)
    host, worker = open_ours(path, mode)
    try:
        return timed(lambda k: ours_cycles(host, worker, k, data), n)
    finally:
        host.close()
        if mode != "memory":
            remove_db(path)


def run_raw(mode: str, n: int, directory: str, template: str, entries: Dict[int, bytes],
            data: bytes) -> float:
    path = ":memory:" if mode == "memory" else db_path(directory, "raw")
    if mode != "memory":
        remove_db(path)
    raw = Raw(path, mode, template, entries)
    try:
        return timed(lambda k: raw.cycles(k, data), n)
    finally:
        raw.close()
        if mode != "memory":
            remove_db(path)


def run_module(n: int, data: bytes) -> float:
    host, worker = open_ours(":memory:", "memory")
    try:
        return timed(lambda k: module_cycles(worker, k, data), n)
    finally:
        host.close()


def read_c_results(path: Optional[str], c_bench: Optional[str], directory: str, quick: bool) -> Dict[str, Dict[str, float]]:
    text = ""
    if path and os.path.exists(path):
        with open(path) as f:
            text = f.read()
    elif c_bench:
        args = [c_bench, "--dir", directory] + (["--quick"] if quick else [])
        print(f"running {' '.join(args)} for the C ABI figures ...", flush=True)
        text = subprocess.run(args, capture_output=True, text=True).stdout
    results: Dict[str, Dict[str, float]] = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) > 3 and parts[0] == "RESULT" and parts[1] == "c":
            results[parts[2]] = {k: float(v) for k, v in (p.split("=", 1) for p in parts[3:])}
    return results


def find_c_bench(given: Optional[str]) -> Optional[str]:
    for candidate in (given, os.path.join(ROOT, "build-bench", "bench", "gp_bench_cycle"),
                      shutil.which("gp_bench_cycle")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--memory", type=int, default=30_000, help="timed cycles per repeat, in-memory host")
    ap.add_argument("--normal", type=int, default=5_000, help="timed cycles per repeat, synchronous=NORMAL")
    ap.add_argument("--full", type=int, default=200, help="timed cycles per repeat, synchronous=FULL")
    ap.add_argument("--payload", type=int, default=16, help="payload size in bytes")
    ap.add_argument("--dir", default=".", help="where file hosts are created")
    ap.add_argument("--only", choices=MODES)
    ap.add_argument("--quick", action="store_true", help="few cycles: a smoke test, not a measurement")
    ap.add_argument("--c-results", help="gp_bench_cycle output to take the C ABI figures from")
    ap.add_argument("--c-bench", help="path of gp_bench_cycle (default: build-bench/bench/gp_bench_cycle)")
    args = ap.parse_args()
    if args.quick:
        args.memory, args.normal, args.full, args.repeats = 3_000, 500, 20, 3
    iters = {"memory": args.memory, "normal": args.normal, "full": args.full}
    data = bytes((ord("a") + i % 26) for i in range(args.payload))
    os.makedirs(args.dir, exist_ok=True)

    print(f"bench_cycle.py: golem_promise {golem_promise.__version__} (library {golem_promise.LIBRARY_VERSION}), "
          f"Python {sys.version.split()[0]}, sqlite3 module on SQLite {sqlite3.sqlite_version}")
    print(f"cycle = worker.create_promise() + host.complete_promise(pid, <{args.payload} bytes>) "
          "+ worker.await_promise(pid)")
    c_bench = find_c_bench(args.c_bench)
    template = make_template(args.dir)
    try:
        return run_all(args, iters, data, c_bench, template)
    finally:
        remove_db(template)


def run_all(args: argparse.Namespace, iters: Dict[str, int], data: bytes, c_bench: Optional[str],
            template: str) -> int:
    entries = capture_entries(args.dir, data)
    print(check_statements(c_bench, args.dir, template, entries, data))
    print(f"raw sqlite3 = those statements through Python's sqlite3 module (statement cache, isolation_level=None);\n"
          f"  oplog blobs are real entries captured from golem-promise ({len(entries[2])} and "
          f"{len(entries[5])} bytes), passed as they are, not encoded")
    c_results = read_c_results(args.c_results, c_bench, args.dir, args.quick)

    for mode in MODES:
        if args.only and mode != args.only:
            continue
        n = iters[mode]
        ours: List[float] = []
        raw: List[float] = []
        for _ in range(args.repeats):  # interleaved, so drift hits both alike
            ours.append(run_ours(mode, n, args.dir, data))
            raw.append(run_raw(mode, n, args.dir, template, entries, data))
        print(f"\n{MODE_NAME[mode]} host: {n} cycles x {args.repeats} repeats (after {n // 10 + 1} warm-up cycles each)")
        print(f"  {'':30} {'best cyc/s':>12} {'median cyc/s':>12} {'us/cycle':>10}")
        rows = [("golem_promise (Python)", max(ours), statistics.median(ours)),
                ("raw sqlite3 (Python)", max(raw), statistics.median(raw))]
        c = c_results.get(mode)
        if c:
            rows.append(("C ABI (gp_bench_cycle)", c["ours_best"], c["ours_median"]))
        for label, best, med in rows:
            print(f"  {label:30} {best:12.0f} {med:12.0f} {1e6 / med:10.2f}")
        ratio_best, ratio_med = max(ours) / max(raw), statistics.median(ours) / statistics.median(raw)
        line = f"  golem_promise/raw sqlite3: {100 * ratio_best:.0f}% (best), {100 * ratio_med:.0f}% (median)"
        if c:
            line += f"; Python/C ABI: {100 * statistics.median(ours) / c['ours_median']:.0f}% (median)"
        print(line)
        if mode == "memory":
            print(f"  target >= {TARGET} cycles/s through Python: {'met' if max(ours) >= TARGET else 'NOT met'} "
                  f"(best {max(ours):.0f}, median {statistics.median(ours):.0f})")
            mod = [run_module(n, data) for _ in range(args.repeats)]
            print(f"  module-level functions (with worker: create/complete/await; the worker completes,\n"
                  f"    one oplog entry more per cycle): best {max(mod):.0f}, median {statistics.median(mod):.0f} cyc/s")
        print(f"RESULT python {mode} ours_best={max(ours):.0f} ours_median={statistics.median(ours):.0f} "
              f"raw_best={max(raw):.0f} raw_median={statistics.median(raw):.0f} ratio_best={ratio_best:.3f} "
              f"ratio_median={ratio_med:.3f} iters={n} repeats={args.repeats}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
