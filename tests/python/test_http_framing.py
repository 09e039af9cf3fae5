"""HTTP framing as a hostile client or a proxy meets it (issue 21, step 1): a request the server
refuses before it has read its whole body is answered with ``Connection: close`` and the
connection is closed, so a body is never read as a request; pipelined requests are answered
in order; ``Expect: 100-continue`` is honoured.

Each smuggling case sends one HTTP/1.1 request whose body is a complete second request that
would complete a promise: by RFC 9112 framing there is one request, so there must be one
answer, the connection must close, and the promise named only in the body must stay pending.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Dict, Iterator, List, Tuple

import pytest

from golem_promise import ComponentId, Host, PromiseId, Worker

COMPONENT = ComponentId.from_uuid(uuid.UUID("5a5a5a5a-0000-4000-8000-000000000021"))


@dataclass
class Served:
    host: Host
    worker: Worker
    port: int


@pytest.fixture
def served() -> Iterator[Served]:
    with Host(":memory:") as host, host.serve() as server:
        yield Served(host, host.worker(COMPONENT, "framing"), server.port)


def _complete_request(pid: PromiseId, extra_headers: str = "", data: bytes = b"smuggled") -> bytes:
    body = ('{"oplogIdx": %d, "data": [%s]}' % (pid.oplog_idx, ",".join(str(b) for b in data))).encode()
    head = (
        f"POST /v1/components/{pid.worker_id.component_id}/workers/{pid.worker_id.worker_name}/complete HTTP/1.1\r\n"
        f"Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra_headers}\r\n"
    )
    return head.encode() + body


def _wrap(head: str, inner: bytes) -> bytes:
    """``head`` (request line and headers, without the blank line) with ``inner`` as its body."""
    return f"{head}\r\nContent-Length: {len(inner)}\r\n\r\n".encode() + inner


def _exchange(port: int, data: bytes, timeout: float = 5.0) -> Tuple[List[Tuple[int, Dict[str, str], bytes]], bool]:
    """Sends ``data`` on one connection; returns the answers read and whether the server closed it."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        raw = b""
        closed = False
        deadline = time.monotonic() + timeout
        s.settimeout(0.3)
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                if _answers(raw)[1] == len(raw) and raw:
                    # every answer is complete; give the server a moment more to close
                    try:
                        s.settimeout(1.0)
                        chunk = s.recv(65536)
                    except socket.timeout:
                        break
                else:
                    continue
            except ConnectionResetError:
                closed = True
                break
            if not chunk:
                closed = True
                break
            raw += chunk
        answers, _ = _answers(raw)
        return answers, closed


def _answers(raw: bytes) -> Tuple[List[Tuple[int, Dict[str, str], bytes]], int]:
    """Parses the complete answers in ``raw``; returns them and the bytes they span."""
    out: List[Tuple[int, Dict[str, str], bytes]] = []
    pos = 0
    while True:
        end = raw.find(b"\r\n\r\n", pos)
        if end < 0:
            return out, pos
        lines = raw[pos:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.strip().lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:] if ":" in ln)}
        length = int(headers.get("content-length", "0"))
        if status == 100:
            length = 0
        if len(raw) < end + 4 + length:
            return out, pos
        out.append((status, headers, raw[end + 4 : end + 4 + length]))
        pos = end + 4 + length


def _path(pid: PromiseId) -> str:
    return f"/v1/components/{pid.worker_id.component_id}/workers/{pid.worker_id.worker_name}"


SMUGGLERS = {
    "unsatisfiable Range": lambda pid: f"GET {_path(pid)}/promises/{pid.oplog_idx} HTTP/1.1\r\nHost: x\r\nRange: bytes=999999-1",
    "header line over 8 KiB": lambda pid: f"POST {_path(pid)}/complete HTTP/1.1\r\nHost: x\r\nX-Pad: {'a' * 9000}",
    "request line over 8 KiB": lambda pid: f"POST {_path(pid)}/complete?pad={'a' * 9000} HTTP/1.1\r\nHost: x",
    "unknown method": lambda pid: f"QUERY {_path(pid)}/complete HTTP/1.1\r\nHost: x",
    "lower-case method": lambda pid: f"post {_path(pid)}/complete HTTP/1.1\r\nHost: x",
}


@pytest.mark.parametrize("case", sorted(SMUGGLERS))
def test_a_refused_request_closes_the_connection_and_its_body_is_never_a_request(served: Served, case: str) -> None:
    pid = served.worker.create_promise()
    data = _wrap(SMUGGLERS[case](pid), _complete_request(pid))
    answers, closed = _exchange(served.port, data)
    assert len(answers) == 1, [a[0] for a in answers]
    status, headers, _ = answers[0]
    # Range is ignored (answers are never partial), so that GET is answered; the others are refused.
    assert status == 200 if case == "unsatisfiable Range" else 400 <= status < 500
    assert headers.get("connection", "").lower() == "close"
    assert closed
    assert served.host.poll_promise(pid) is None  # the body's request was never executed


@pytest.mark.parametrize("method", ["QUERY", "post", "FOO"])
def test_unknown_methods_are_405_as_in_golem(served: Served, method: str) -> None:
    pid = served.worker.create_promise()
    answers, closed = _exchange(served.port, f"{method} {_path(pid)}/complete HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n".encode())
    assert [a[0] for a in answers] == [405] and closed


def test_pipelined_requests_are_answered_in_order(served: Served) -> None:
    pids = [served.worker.create_promise() for _ in range(5)]
    data = b"".join(_complete_request(p, data=bytes([i])) for i, p in enumerate(pids))
    data += f"GET {_path(pids[0])}/promises/{pids[0].oplog_idx} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    answers, closed = _exchange(served.port, data)
    assert [(a[0], a[2]) for a in answers[:5]] == [(200, b"true")] * 5
    assert answers[5][0] == 200 and closed
    assert [served.host.poll_promise(p) for p in pids] == [bytes([i]) for i in range(5)]


def test_a_long_pipeline_of_mixed_requests_is_answered_in_order(served: Served) -> None:
    # 57 requests in one send, more than the server parses in a row before it lets its other
    # connections go first: completions (one chunked), GETs, a repeated completion, an unknown
    # promise, then a last one asking to close.
    pids = [served.worker.create_promise() for _ in range(40)]
    data = b""
    expected: List[Tuple[int, bytes]] = []
    for i, p in enumerate(pids):
        if i == 7:
            body = ('{"oplogIdx": %d, "data": [%d]}' % (p.oplog_idx, i)).encode()
            data += (
                f"POST {_path(p)}/complete HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Transfer-Encoding: chunked\r\n\r\n{len(body[:5]):x}\r\n"
            ).encode() + body[:5] + f"\r\n{len(body[5:]):x}\r\n".encode() + body[5:] + b"\r\n0\r\n\r\n"
        else:
            data += _complete_request(p, data=bytes([i]))
        expected.append((200, b"true"))
        if i % 3 == 0:
            data += f"GET {_path(p)}/promises/{p.oplog_idx} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
            expected.append((200, ('{"state":"completed","data":[%d]}' % i).encode()))
    data += _complete_request(pids[0], data=b"late")
    expected.append((200, b"false"))
    missing = PromiseId(pids[0].worker_id, 10**9)
    data += _complete_request(missing)
    expected.append((500, b""))
    data += f"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    expected.append((200, b""))
    answers, closed = _exchange(served.port, data)
    assert len(answers) == len(expected) == 57
    for (status, _, body), (want_status, want_body) in zip(answers, expected):
        assert status == want_status
        if want_body:
            assert body.replace(b" ", b"") == want_body
    assert closed
    assert [served.host.poll_promise(p) for p in pids] == [bytes([i]) for i in range(40)]


def test_an_answer_larger_than_the_socket_takes_is_written_whole_while_others_are_served() -> None:
    # A 4 MiB payload's GET answer (about 16 MiB of JSON) to a client with a small receive
    # buffer cannot go out in one write: the rest is written as the slow client reads, and the
    # I/O thread serves other connections meanwhile.  (Generous timeouts: under the sanitizers
    # building and reading the answer is slow, and the answer must make it within them.)
    with Host(":memory:") as host, host.serve(request_timeout=120, idle_timeout=120) as server:
        _large_answer(Served(host, host.worker(COMPONENT, "framing"), server.port))


def _large_answer(served: Served) -> None:
    pid = served.worker.create_promise()
    payload = bytes(range(256)) * (4 * 4096)
    assert served.host.complete_promise(pid, payload)
    slow = socket.socket()
    slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # before connecting: a small window
    slow.settimeout(60)
    slow.connect(("127.0.0.1", served.port))
    with slow:
        slow.sendall(f"GET {_path(pid)}/promises/{pid.oplog_idx} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        time.sleep(0.2)  # the server has filled the socket's buffers by now and waits
        for _ in range(3):
            other = served.worker.create_promise()
            answers, _ = _exchange(served.port, _complete_request(other, extra_headers="Connection: close\r\n", data=b"x"))
            assert [(a[0], a[2]) for a in answers] == [(200, b"true")]
        raw = b""
        while b"\r\n\r\n" not in raw:
            chunk = slow.recv(65536)
            assert chunk, "the server closed before the answer's header"
            raw += chunk
        head, body = raw.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 200 ")
        length = int(next(ln.split(b":", 1)[1] for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:")))
        parts = [body]
        got = len(body)
        while got < length:
            chunk = slow.recv(1 << 20)
            assert chunk, "the server closed before the whole answer"
            parts.append(chunk)
            got += len(chunk)
        body = b"".join(parts)
        assert len(body) == length
        # The connection goes on: the next request on it is answered.
        last = served.worker.create_promise()
        slow.sendall(_complete_request(last, data=b"after"))
        raw = b""
        while not _answers(raw)[0]:
            chunk = slow.recv(65536)
            assert chunk, "the server closed the connection after the large answer"
            raw += chunk
        assert [(a[0], a[2]) for a in _answers(raw)[0]] == [(200, b"true")]
    assert served.host.poll_promise(last) == b"after"
    # Checked last: decoding 16 MiB of JSON is slow under the sanitizers, and the connection
    # must not sit idle meanwhile.
    assert bytes(json.loads(body)["data"]) == payload


def test_expect_100_continue(served: Served) -> None:
    pid = served.worker.create_promise()
    request = _complete_request(pid, extra_headers="Expect: 100-continue\r\n", data=b"ok")
    head, body = request.split(b"\r\n\r\n", 1)
    with socket.create_connection(("127.0.0.1", served.port), timeout=5) as s:
        s.sendall(head + b"\r\n\r\n")
        interim = s.recv(4096)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n"), interim
        s.sendall(body)
        final = b""
        while b"\r\n\r\n" not in final or not final.endswith(b"true"):
            chunk = s.recv(4096)
            if not chunk:
                break
            final += chunk
    assert final.startswith(b"HTTP/1.1 200 ") and final.endswith(b"true"), final
    assert served.host.poll_promise(pid) == b"ok"
