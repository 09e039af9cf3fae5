#!/usr/bin/env python3
"""The HTTP endpoint under wrk, next to nginx answering the same requests, in one run.

For 1, 4 and 16 keep-alive connections, interleaved (nginx, then each host kind, at each
connection count), wrk (Debian's package) POSTs Golem's completion request
``/v1/components/{c}/workers/{w}/complete`` with ``{"oplogIdx": N, "data": [...]}`` for
*distinct* pending promises (a Lua script hands each wrk thread its own slice of a list made
beforehand) to:

- **nginx** (Debian's package, started here on a loopback port with a temporary prefix) answering
  ``200 true`` to every request without touching a database: the ceiling for the same requests;
- **golem-promise serve** on an in-memory host (``memory``) and on a file host at synchronous
  FULL (``file-full``: a 200 ``true`` is durable), each with enough pending promises made first.

Each row prints requests/s, the ratio to nginx at the same connection count, and the server's
CPU time per request (utime + stime of the server process, all threads, over the run, read
from /proc).  Afterwards every ``200 true`` wrk counted is checked against the database: the
number of completed promises must equal it.  Lines starting with ``RESULT`` are
machine-readable.  Runs are bounded (``--seconds`` each, loopback only) and stop by themselves.
Skips (exit 0) when wrk, nginx or golem_promise is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional, Tuple

try:
    from golem_promise import ComponentId, Host
except ImportError as exc:  # pragma: no cover - depends on the environment
    print(f"bench_http_wrk.py: skipped: golem_promise is not importable ({exc}).")
    sys.exit(0)

ROOT = Path(__file__).resolve().parent.parent
COMPONENT = "1a2b3c4d-0000-4000-8000-00000000beef"
WORKER = "bench-wrk"
PAYLOAD = list(b'{"approved":true}')

# wrk's Lua: every thread takes its own slice of the oplog indices (one per line of the file),
# sends each once, and counts the answers that are exactly 200 "true".  Out of indices, it
# sends to a path that answers 404, which is not counted.
LUA = r"""
local indices = {}
for line in io.lines(os.getenv("GP_WRK_INDICES")) do indices[#indices + 1] = line end
local path = os.getenv("GP_WRK_PATH")
local data = os.getenv("GP_WRK_DATA")
local threads = tonumber(os.getenv("GP_WRK_THREADS"))
local counter = 0
local all = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(all, thread)
end

function init(args)
  next_i = id + 1
  ok = 0
  other = 0
  exhausted = 0
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  local i = next_i
  next_i = next_i + threads
  if i > #indices then
    exhausted = exhausted + 1
    return wrk.format("POST", "/exhausted", nil, "{}")
  end
  return wrk.format(nil, path, nil, '{"oplogIdx":' .. indices[i] .. ',"data":' .. data .. '}')
end

function response(status, headers, body)
  if status == 200 and body == "true" then ok = ok + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local t_ok, t_other, t_exhausted = 0, 0, 0
  for _, thread in ipairs(all) do
    t_ok = t_ok + thread:get("ok")
    t_other = t_other + thread:get("other")
    t_exhausted = t_exhausted + thread:get("exhausted")
  end
  io.write(string.format("GPWRK ok=%d other=%d exhausted=%d requests=%d seconds=%.6f p50_us=%d p99_us=%d\n",
    t_ok, t_other, t_exhausted, summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99)))
end
"""

NGINX_CONF = """
worker_processes {workers};
error_log {prefix}/error.log error;
pid {prefix}/nginx.pid;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{port};
        default_type application/json;
        location / {{ return 200 "true"; }}
    }}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def tree_cpu_seconds(pid: int) -> float:
    """CPU of a process and its children (nginx's workers)."""
    total = cpu_seconds(pid)
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    for child in children:
        try:
            total += cpu_seconds(int(child))
        except OSError:
            pass
    return total


def wait_for_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


def run_wrk(wrk: str, port: int, connections: int, seconds: float, lua: Path, env: Dict[str, str]) -> Dict[str, float]:
    threads = min(2, connections)
    full_env = dict(os.environ, GP_WRK_THREADS=str(threads), **env)
    out = subprocess.run(
        [wrk, "-t", str(threads), "-c", str(connections), "-d", f"{max(1, round(seconds))}s", "-s", str(lua), f"http://127.0.0.1:{port}"],
        capture_output=True, text=True, env=full_env, timeout=seconds + 60,
    )
    if out.returncode != 0:
        raise RuntimeError(f"wrk failed: {out.stdout}{out.stderr}")
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("GPWRK ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary: {out.stdout}{out.stderr}")
    return {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}


class Golem:
    """golem-promise serve on a fresh host with ``count`` pending promises of one worker."""

    def __init__(self, kind: str, directory: Path, count: int) -> None:
        self.kind = kind
        self.db = ":memory:" if kind == "memory" else str(directory / f"wrk-{kind}-{os.getpid()}-{time.monotonic_ns()}.db")
        self.count = count
        self.indices_file = directory / f"indices-{kind}-{time.monotonic_ns()}.txt"
        self.proc: Optional["subprocess.Popen[str]"] = None
        self.port = 0

    def start(self) -> None:
        # The server runs in this helper process: it makes the promises (memory hosts are
        # private to a process), then serves them, and reports the count of completed ones.
        code = (
            "import sys, json, signal\n"
            "from golem_promise import Host, ComponentId\n"
            f"host = Host({self.db!r}, synchronous='normal')\n"
            f"w = host.worker(ComponentId.parse({COMPONENT!r}), {WORKER!r}, live=True)\n"
            f"idx = [w.create_promise().oplog_idx for _ in range({self.count})]\n"
            f"open({str(self.indices_file)!r}, 'w').write('\\n'.join(map(str, idx)) + '\\n')\n"
            + ("host.close()\n" f"host = Host({self.db!r}, synchronous='full')\n" if self.kind != "memory" else "")
            + "server = host.serve(port=0, threads=64)\n"
            "print(server.url, flush=True)\n"
            "sys.stdin.readline()\n"
            "done = len(host.list_promises(state='completed'))\n"
            "print(done, flush=True)\n"
            "server.close()\n"
        )
        self.proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        url = self.proc.stdout.readline().strip()
        if not url:
            raise RuntimeError(f"golem-promise server ({self.kind}) did not start")
        self.port = int(url.rsplit(":", 1)[1].split("/")[0])

    def completed(self) -> int:
        assert self.proc is not None and self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("\n")
        self.proc.stdin.flush()
        n = int(self.proc.stdout.readline())
        self.proc.wait(timeout=60)
        return n

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="duration of each wrk run (default 5)")
    parser.add_argument("--connections", type=int, nargs="+", default=[1, 4, 16], help="connection counts (default 1 4 16)")
    parser.add_argument("--hosts", nargs="+", choices=["memory", "file-full"], default=["memory", "file-full"])
    parser.add_argument("--promises", type=int, default=400_000, help="pending promises per run of the memory host (default 400000)")
    parser.add_argument("--file-promises", type=int, default=150_000, help="pending promises per file-host run (default 150000)")
    parser.add_argument("--dir", type=Path, default=None, help="where file hosts go (default build/bench-http-wrk)")
    parser.add_argument("--quick", action="store_true", help="1 s runs at 1 and 4 connections, few promises (smoke test)")
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.connections, args.promises, args.file_promises = 1.0, [1, 4], 200_000, 25_000
    wrk, nginx = shutil.which("wrk"), shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if wrk is None or nginx is None:
        print("bench_http_wrk.py: skipped: wrk and nginx are needed (apt-get install wrk nginx-light)")
        return 0
    directory = args.dir or ROOT / "build" / "bench-http-wrk"
    directory.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory(prefix="gp-wrk-") as tmp:
        lua = Path(tmp) / "complete.lua"
        lua.write_text(LUA)
        prefix = Path(tmp) / "nginx"
        prefix.mkdir()
        nginx_port = free_port()
        (prefix / "nginx.conf").write_text(NGINX_CONF.format(prefix=prefix, port=nginx_port, workers=os.cpu_count() or 1))
        ng = subprocess.Popen([nginx, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-g", "daemon off;"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        failures: List[str] = []
        try:
            wait_for_port(nginx_port)
            nginx_indices = Path(tmp) / "nginx-indices.txt"
            nginx_indices.write_text("\n".join(str(i) for i in range(2, 2 + args.promises)) + "\n")
            print(f"wrk: {args.seconds:g} s per run, keep-alive, distinct completions; nginx {nginx_port} answers 200 true")
            print(f"{'server':10} {'conns':>5} {'req/s':>10} {'vs nginx':>9} {'CPU us/req':>11} {'p50 us':>8} {'p99 us':>8}")
            for c in args.connections:
                path = f"/v1/components/{COMPONENT}/workers/{WORKER}/complete"
                env = {"GP_WRK_PATH": path, "GP_WRK_DATA": json.dumps(PAYLOAD, separators=(",", ":")), "GP_WRK_INDICES": str(nginx_indices)}
                before = tree_cpu_seconds(ng.pid)
                r = run_wrk(wrk, nginx_port, c, args.seconds, lua, env)
                cpu = tree_cpu_seconds(ng.pid) - before
                nginx_rps = r["ok"] / r["seconds"]
                nginx_cpu_us = cpu / max(r["ok"], 1) * 1e6
                print(f"{'nginx':10} {c:5d} {nginx_rps:10.0f} {'1.00':>9} {cpu / max(r['ok'], 1) * 1e6:11.1f} {r['p50_us']:8.0f} {r['p99_us']:8.0f}", flush=True)
                for kind in args.hosts:
                    g = Golem(kind, directory, args.promises if kind == "memory" else args.file_promises)
                    try:
                        g.start()
                        assert g.proc is not None
                        env["GP_WRK_INDICES"] = str(g.indices_file)
                        before = cpu_seconds(g.proc.pid)
                        r = run_wrk(wrk, g.port, c, args.seconds, lua, env)
                        cpu = cpu_seconds(g.proc.pid) - before
                        stored = g.completed()
                    finally:
                        g.stop()
                        for suffix in ("", "-wal", "-shm", "-gpwake"):
                            if g.db != ":memory:" and os.path.exists(g.db + suffix):
                                os.remove(g.db + suffix)
                        if g.indices_file.exists():
                            g.indices_file.unlink()
                    rps = r["ok"] / r["seconds"]
                    # wrk stops with at most one request in flight per connection: the server may
                    # have completed those without wrk counting their answers.
                    if not int(r["ok"]) <= stored <= int(r["ok"]) + c:
                        failures.append(f"{kind} at {c} connections: wrk counted {int(r['ok'])} '200 true', the database has {stored} completed")
                    if r["exhausted"] > 0:
                        failures.append(f"{kind} at {c} connections ran out of promises: raise --promises / --file-promises")
                    if r["other"] > r["exhausted"]:
                        failures.append(f"{kind} at {c} connections: {int(r['other'] - r['exhausted'])} answers were not 200 true")
                    print(f"{kind:10} {c:5d} {rps:10.0f} {rps / nginx_rps:9.2f} {cpu / max(r['ok'], 1) * 1e6:11.1f} "
                          f"{r['p50_us']:8.0f} {r['p99_us']:8.0f}  (stored {stored} = counted {int(r['ok'])})", flush=True)
                    print(f"RESULT http_wrk server={kind} connections={c} rps={rps:.0f} vs_nginx={rps / nginx_rps:.3f} "
                          f"cpu_us={cpu / max(r['ok'], 1) * 1e6:.1f} ok={int(r['ok'])} other={int(r['other'])} stored={stored}")
                print(f"RESULT http_wrk server=nginx connections={c} rps={nginx_rps:.0f} vs_nginx=1 cpu_us={nginx_cpu_us:.1f}")
        finally:
            ng.send_signal(signal.SIGQUIT)
            try:
                ng.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ng.kill()
    for f in failures:
        print(f"CHECK FAILED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
