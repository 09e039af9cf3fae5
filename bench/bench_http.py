#!/usr/bin/env python3
"""Completions per second over HTTP (Golem's REST endpoint) next to the same work through the C ABI.

For an in-memory host and a file host (WAL, synchronous FULL: a 200 ``true`` is durable), the
same number of pending promises is completed on fresh databases, three ways:

* **C ABI** — ``gp_host_complete_promise`` called from ``--clients`` C threads by
  ``gp_bench_complete`` (bench/bench_complete.c, built with the benchmarks; ``--c-bench``,
  default build-bench/bench/gp_bench_complete, then build/bench/, then ``$PATH``): the library
  alone, no Python.  When it is not built the row is left out and so is the ratio;
* **Python** — ``Host.complete_promise`` of the Python binding (one ``gp_host_complete_promise``
  call with the GIL released) from ``--clients`` threads: the binding's cost, for reference;
* **HTTP** — ``POST /v1/components/{c}/workers/{w}/complete`` with ``{"oplogIdx": N, "data":
  [...]}`` to ``Host.serve()`` on 127.0.0.1, from ``--clients`` client *processes*, each
  reusing one keep-alive ``http.client.HTTPConnection`` (processes, so the clients' Python does
  not share one GIL).  Every answer is checked to be ``200 true``.

The ratio HTTP / C ABI is the share of the C ABI's throughput left once HTTP, JSON and the
client are added.  The server's own CPU time per HTTP completion (all its threads) is printed
too, since the clients share this machine's cores with it.  On a file host both runs pay an fsync per commit; concurrent completions
share commits (group commit), so more clients raise both figures.  Note that the HTTP figure
includes the Python client's own cost (a few tens of µs per request), and that client and server
share this machine's cores.

Each run is bounded (``--requests`` completions) and stops by itself.  File hosts go to
``--dir`` (default ``$GP_BENCH_DIR``, else build/bench-http under the repository: a real disk,
so fsyncs cost what they cost).  ``--json`` prints the figures as one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

try:
    from golem_promise import ComponentId, Host, PromiseId
except ImportError as exc:  # pragma: no cover - depends on the environment
    print(f"bench_http.py: skipped: golem_promise is not importable ({exc}).")
    print("  Install it first, e.g. `pip install /work/main`.")
    sys.exit(0)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
COMPONENT = "1a2b3c4d-0000-4000-8000-00000000beef"
WORKER_NAME = "bench-http"


def remove_db(path: str) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", "-gpwake"):
        try:
            os.remove(path + suffix)
        except FileNotFoundError:
            pass


def create_promises(host: Host, count: int) -> List[PromiseId]:
    worker = host.worker(ComponentId.parse(COMPONENT), WORKER_NAME, live=True)
    return [worker.create_promise() for _ in range(count)]


def split(items: Sequence[PromiseId], parts: int) -> List[List[PromiseId]]:
    return [list(items[i::parts]) for i in range(parts)]


def open_host(kind: str, directory: str, tag: str, count: int) -> Tuple[Host, List[PromiseId]]:
    """A fresh host with ``count`` pending promises.  A file host's promises are created with
    synchronous NORMAL (setup need not wait for fsyncs), then the host is reopened FULL."""
    if kind == "memory":
        host = Host(":memory:")
        return host, create_promises(host, count)
    path = os.path.join(directory, f"bench-http-{tag}-{os.getpid()}.db")
    remove_db(path)
    with Host(path, synchronous="normal") as setup:
        pids = create_promises(setup, count)
    return Host(path, synchronous="full"), pids


# --------------------------------------------------------------------------- C ABI


def find_c_bench(given: Optional[str]) -> Optional[str]:
    """gp_bench_complete: the given path, else the benchmark build's, else the test build's, else $PATH."""
    if given:
        if not os.access(given, os.X_OK):
            raise SystemExit(f"bench_http.py: --c-bench {given} is not an executable")
        return given
    for candidate in (
        os.path.join(ROOT, "build-bench", "bench", "gp_bench_complete"),
        os.path.join(ROOT, "build", "bench", "gp_bench_complete"),
        shutil.which("gp_bench_complete"),
    ):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def run_c_abi(
    c_bench: str, kind: str, directory: str, count: int, clients: int, payload: bytes
) -> Tuple[float, float]:
    """Seconds gp_bench_complete took to complete `count` promises from `clients` C threads, and
    its CPU time per completion in µs."""
    args = [c_bench, "--host", kind, "--requests", str(count), "--clients", str(clients),
            "--payload-bytes", str(len(payload)), "--dir", directory]
    out = subprocess.run(args, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"bench_http.py: {' '.join(args)} failed: {out.stderr.strip()}")
    for line in out.stdout.splitlines():
        parts = line.split()
        if parts[:2] == ["RESULT", "complete_c"]:
            fields = dict(p.split("=", 1) for p in parts[2:])
            return float(fields["seconds"]), float(fields.get("cpu_us", "nan"))
    raise SystemExit(f"bench_http.py: no RESULT line from {' '.join(args)}")


# --------------------------------------------------------------------------- Python


def run_python(host: Host, pids: List[PromiseId], clients: int, payload: bytes) -> float:
    """Seconds to complete every promise through Host.complete_promise from `clients` threads."""
    shares = split(pids, clients)
    barrier = threading.Barrier(clients + 1)
    failures: List[str] = []

    times: List[Tuple[float, float]] = []

    def client(share: List[PromiseId]) -> None:
        barrier.wait()
        start = time.perf_counter()
        for pid in share:
            if not host.complete_promise(pid, payload):
                failures.append(str(pid))
        times.append((start, time.perf_counter()))

    threads = [threading.Thread(target=client, args=(s,)) for s in shares]
    for t in threads:
        t.start()
    barrier.wait()
    for t in threads:
        t.join()
    # From the first client's start to the last one's end, as the clients saw them.
    elapsed = max(t[1] for t in times) - min(t[0] for t in times)
    if failures:
        raise SystemExit(f"bench_http.py: {len(failures)} Host.complete_promise calls returned false")
    return elapsed


# --------------------------------------------------------------------------- HTTP


def http_client(
    address: str, port: int, path: str, indexes: List[int], data: List[int], ready: Any, go: Any, out: Any
) -> None:
    """One client process: a keep-alive connection, one POST per promise, each checked."""
    conn = http.client.HTTPConnection(address, port, timeout=60)
    headers = {"Content-Type": "application/json"}
    bodies = [json.dumps({"oplogIdx": idx, "data": data}).encode() for idx in indexes]
    conn.connect()
    ready.wait()
    go.wait()
    start = time.monotonic()
    bad = 0
    for body in bodies:
        conn.request("POST", path, body, headers)
        resp = conn.getresponse()
        answer = resp.read()
        if resp.status != 200 or answer != b"true":
            bad += 1
    end = time.monotonic()
    conn.close()
    out.put((start, end, bad))


def run_http(host: Host, pids: List[PromiseId], clients: int, payload: bytes) -> Tuple[float, float]:
    """Seconds to complete every promise over HTTP from `clients` keep-alive client processes, and
    the CPU seconds this process (the server's threads; the main thread only waits) used meanwhile."""
    ctx = mp.get_context("fork")
    with host.serve(threads=max(8, clients)) as server:
        path = f"/v1/components/{COMPONENT}/workers/{WORKER_NAME}/complete"
        ready = ctx.Barrier(clients + 1)
        go = ctx.Event()
        out = ctx.Queue()
        data = list(payload)
        procs = [
            ctx.Process(
                target=http_client,
                args=("127.0.0.1", server.port, path, [p.oplog_idx for p in share], data, ready, go, out),
            )
            for share in split(pids, clients)
        ]
        for p in procs:
            p.start()
        ready.wait()
        cpu = time.process_time()
        go.set()
        results: List[Tuple[float, float, int]] = [out.get(timeout=600) for _ in procs]
        cpu = time.process_time() - cpu
        for p in procs:
            p.join()
    bad = sum(r[2] for r in results)
    if bad:
        raise SystemExit(f"bench_http.py: {bad} HTTP completions were not 200 true")
    return max(r[1] for r in results) - min(r[0] for r in results), cpu


# --------------------------------------------------------------------------- main


def measure(
    kind: str, directory: str, count: int, clients: int, payload: bytes, c_bench: Optional[str]
) -> Dict[str, float]:
    """One host kind: the C ABI (if gp_bench_complete was found), Python and HTTP runs."""
    out: Dict[str, float] = {"requests": count}
    if c_bench:
        c_seconds, c_cpu_us = run_c_abi(c_bench, kind, directory, count, clients, payload)
        out.update(c_abi_per_s=count / c_seconds, c_abi_us=1e6 * c_seconds / count, c_abi_cpu_us=c_cpu_us)
    host, pids = open_host(kind, directory, "python", count)
    with host:
        p_seconds = run_python(host, pids, clients, payload)
        if any(host.poll_promise(p) != payload for p in pids[:: max(1, count // 50)]):
            raise SystemExit("bench_http.py: Python run left promises pending")
    host, pids = open_host(kind, directory, "http", count)
    with host:
        h_seconds, h_cpu = run_http(host, pids, clients, payload)
        if any(host.poll_promise(p) != payload for p in pids[:: max(1, count // 50)]):
            raise SystemExit("bench_http.py: HTTP run left promises pending")
    out.update(
        python_per_s=count / p_seconds,
        python_us=1e6 * p_seconds / count,
        http_per_s=count / h_seconds,
        http_us=1e6 * h_seconds / count,
        server_cpu_us=1e6 * h_cpu / count,
    )
    if c_bench:
        out["ratio"] = out["http_per_s"] / out["c_abi_per_s"]
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--requests", type=int, default=20000, help="completions per in-memory run (default 20000)")
    parser.add_argument("--file-requests", type=int, default=4000, help="completions per file-host run (default 4000)")
    parser.add_argument("--clients", type=int, default=4, help="client threads (C ABI) / processes (HTTP), default 4")
    parser.add_argument("--payload-bytes", type=int, default=16, help="payload size (default 16)")
    parser.add_argument("--hosts", default="memory,file", help="comma-separated: memory, file (default both)")
    parser.add_argument("--dir", default=os.environ.get("GP_BENCH_DIR"), help="where file hosts go ($GP_BENCH_DIR)")
    parser.add_argument("--quick", action="store_true", help="a smoke test: 500 completions per run")
    parser.add_argument("--c-bench", help="path of gp_bench_complete (default: build-bench/bench/, then build/bench/, then $PATH)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    args = parser.parse_args(argv)
    if args.quick:
        args.requests = args.file_requests = 500
    if args.clients < 1 or args.requests < args.clients or args.file_requests < args.clients:
        parser.error("need --clients >= 1 and at least one request per client")
    kinds = [k.strip() for k in args.hosts.split(",") if k.strip()]
    if not kinds or any(k not in ("memory", "file") for k in kinds):
        parser.error("--hosts takes memory, file or memory,file")

    cleanup = None
    directory = args.dir
    if directory is None:
        base = os.path.join(ROOT, "build")
        os.makedirs(base, exist_ok=True)
        directory = cleanup = tempfile.mkdtemp(prefix="bench-http-", dir=base)
    else:
        os.makedirs(directory, exist_ok=True)
    payload = bytes(i % 251 for i in range(args.payload_bytes))
    c_bench = find_c_bench(args.c_bench)
    results: Dict[str, Dict[str, float]] = {}
    try:
        for kind in kinds:
            count = args.requests if kind == "memory" else args.file_requests
            results[kind] = measure(kind, directory, count, args.clients, payload, c_bench)
    finally:
        if cleanup:
            shutil.rmtree(cleanup, ignore_errors=True)

    if args.json:
        print(json.dumps({"clients": args.clients, "payload_bytes": args.payload_bytes, "c_bench": c_bench,
                          "results": results}))
        return 0
    print(
        f"HTTP completion vs C ABI: {args.clients} clients (C ABI: C threads calling gp_host_complete_promise; "
        f"Python: threads calling Host.complete_promise; HTTP: processes, keep-alive), "
        f"{args.payload_bytes}-byte payloads, {os.cpu_count()} CPUs"
    )
    if not c_bench:
        print("C ABI: gp_bench_complete not found (bench/run.sh builds it, or give --c-bench): no C ABI row, no ratio")
    print(f"{'host':<8} {'requests':>8} {'C ABI /s':>10} {'µs':>7} {'Python /s':>10} {'µs':>7} "
          f"{'HTTP /s':>10} {'µs':>7} {'HTTP/C ABI':>10}")
    for kind, r in results.items():
        c_rate = f"{r['c_abi_per_s']:>10.0f} {r['c_abi_us']:>7.1f}" if c_bench else f"{'-':>10} {'-':>7}"
        ratio = f"{r['ratio']:>10.3f}" if c_bench else f"{'-':>10}"
        print(
            f"{kind:<8} {int(r['requests']):>8} {c_rate} {r['python_per_s']:>10.0f} {r['python_us']:>7.1f} "
            f"{r['http_per_s']:>10.0f} {r['http_us']:>7.1f} {ratio}"
        )
        fields = (f"python_per_s={r['python_per_s']:.0f} http_per_s={r['http_per_s']:.0f} "
                  f"server_cpu_us={r['server_cpu_us']:.1f}")
        if c_bench:
            fields = f"c_abi_per_s={r['c_abi_per_s']:.0f} c_abi_cpu_us={r['c_abi_cpu_us']:.1f} {fields} ratio={r['ratio']:.4f}"
        print(f"RESULT http {kind} requests={int(r['requests'])} clients={args.clients} {fields}")
    for kind, r in results.items():
        c_cpu = f"; gp_bench_complete {r['c_abi_cpu_us']:.1f} µs per C ABI completion" if c_bench else ""
        print(f"{kind}: CPU time (all threads): the server {r['server_cpu_us']:.1f} µs per HTTP completion{c_cpu}")
    print("file: WAL, synchronous FULL (each 200 true is durable); µs = wall time per completion")
    return 0


if __name__ == "__main__":
    sys.exit(main())
