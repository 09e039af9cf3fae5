"""The HTTP server holds many idle keep-alive connections on its fixed threads (issue 21).

A ``golem-promise serve`` process (its own process, so that its file descriptors, threads and
memory are its own) gets 10,000 connections from this process, each of which has made one
request and stays open, idle.  Meanwhile the server keeps its thread count, stays under 200 MiB
of resident memory, and answers a new client within 50 ms.  Loopback only; bounded in count and
time (a few seconds).
"""

from __future__ import annotations

import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

CONNECTIONS = 10_000
RSS_LIMIT_MIB = 200
NEW_CLIENT_LIMIT_S = 0.050
REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
SANITIZED = "asan" in os.environ.get("LD_PRELOAD", "")


def _raise_fd_limit(need: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < need:
        pytest.skip(f"this machine allows {hard} open files per process; the test needs {need}")
    if soft != resource.RLIM_INFINITY and soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))


def _status(pid: int) -> Dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def _answer(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data or not data.endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


@pytest.fixture
def server(tmp_path: Path) -> Iterator["subprocess.Popen[str]"]:
    need = CONNECTIONS + 1000
    _raise_fd_limit(need)  # inherited by the server process
    proc = subprocess.Popen(
        [sys.executable, "-m", "golem_promise.cli", "--db", str(tmp_path / "idle.db"), "serve", "--idle-timeout", "120"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    url = proc.stdout.readline().strip()
    assert url.startswith("http://127.0.0.1:"), (url, proc.stderr.read() if proc.poll() is not None else "")
    proc.url = url  # type: ignore[attr-defined]
    yield proc
    proc.terminate()
    proc.wait(timeout=30)


def test_ten_thousand_idle_keep_alive_connections_on_fixed_threads(server: "subprocess.Popen[str]") -> None:
    port = int(server.url.rsplit(":", 1)[1])  # type: ignore[attr-defined]
    threads_before = int(_status(server.pid)["Threads"])
    conns: List[socket.socket] = []
    try:
        deadline = time.monotonic() + 120
        # Connect and send one request on each, in batches, then read every answer: each
        # connection is then an idle keep-alive connection.
        for start in range(0, CONNECTIONS, 500):
            batch = []
            for _ in range(start, min(start + 500, CONNECTIONS)):
                s = socket.create_connection(("127.0.0.1", port), timeout=30)
                s.sendall(REQUEST)
                batch.append(s)
            for s in batch:
                answer = _answer(s)
                assert answer.startswith(b"HTTP/1.1 200 "), answer
            conns.extend(batch)
            assert time.monotonic() < deadline
        assert len(conns) == CONNECTIONS

        status = _status(server.pid)
        rss_mib = int(status["VmRSS"].split()[0]) / 1024
        threads = int(status["Threads"])
        print(f"{CONNECTIONS} idle connections: server RSS {rss_mib:.1f} MiB, {threads} threads (before: {threads_before})")
        assert threads == threads_before  # no thread per connection
        if not SANITIZED:  # ASan's shadow memory and quarantine are not the server's
            assert rss_mib < RSS_LIMIT_MIB

        # A new client is answered at once, while all of them stay open.
        worst = 0.0
        for _ in range(5):
            t0 = time.perf_counter()
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(REQUEST)
                assert _answer(s).startswith(b"HTTP/1.1 200 ")
            worst = max(worst, time.perf_counter() - t0)
        print(f"new client answered within {worst * 1000:.1f} ms")
        assert worst < NEW_CLIENT_LIMIT_S * (4 if SANITIZED else 1)

        # The idle connections are still served: a request on a few of them is answered.
        for s in conns[:: CONNECTIONS // 20]:
            s.sendall(REQUEST)
            assert _answer(s).startswith(b"HTTP/1.1 200 ")
    finally:
        for s in conns:
            s.close()
