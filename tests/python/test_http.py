"""Host.serve end to end: a real HTTP client against a real server on 127.0.0.1.

Every row of DESIGN §4 (Golem's answers), the bearer token, bad input, limits, wrong paths and
methods, the GET extension, durability on a file host, and waiters in another process woken by
an HTTP completion.  Statuses and bodies are documented in docs/http.md.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List

import pytest

from golem_promise import (
    ComponentId,
    Host,
    InvalidId,
    ListenError,
    PromiseId,
    Server,
    Worker,
    WorkerNotFound,
)
from http_client import complete, complete_body, keep_alive_connection, request, worker_path

COMPONENT = ComponentId.from_uuid(uuid.UUID("A1A2A3A4-B1B2-C1C2-D1D2-D3D4D5D6D7D8"))
TOKEN = "s3cret-Token_1"


@dataclass
class Served:
    """A host, one of its workers and a server over the host."""

    host: Host
    worker: Worker
    server: Server

    @property
    def url(self) -> str:
        return self.server.url

    def complete_url(self, worker_name: str = "alice", component: str = "") -> str:
        return f"{self.url}/v1/components/{component or COMPONENT}/workers/{worker_name}/complete"

    def promise_url(self, pid: PromiseId) -> str:
        return f"{self.url}{worker_path(pid.worker_id)}/promises/{pid.oplog_idx}"


@pytest.fixture
def served() -> Iterator[Served]:
    """An in-memory host with worker COMPONENT/alice, served without a token."""
    with Host(":memory:") as host, host.serve() as server:
        yield Served(host, host.worker(COMPONENT, "alice"), server)


@pytest.fixture
def served_token() -> Iterator[Served]:
    """As `served`, with TOKEN required."""
    with Host(":memory:") as host, host.serve(token=TOKEN) as server:
        yield Served(host, host.worker(COMPONENT, "alice"), server)


def post(url: str, body: str | bytes) -> "tuple[int, object]":
    r = request("POST", url, body, {"Content-Type": "application/json"})
    return r.status, r.json()


# ----------------------------------------------------------------------------- DESIGN §4 rows


def test_completed_now_is_200_true_and_the_payload_is_stored(served: Served) -> None:
    pid = served.worker.create_promise()
    r = complete(served.url, pid, b"\x00approved\xff")
    assert (r.status, r.body) == (200, b"true")
    assert r.headers["content-type"].startswith("application/json")
    assert served.host.poll_promise(pid) == b"\x00approved\xff"


def test_already_completed_is_200_false_and_keeps_the_first_payload(served: Served) -> None:
    pid = served.worker.create_promise()
    assert complete(served.url, pid, b"first").body == b"true"
    r = complete(served.url, pid, b"second")
    assert (r.status, r.json()) == (200, False)
    assert served.host.poll_promise(pid) == b"first"


def test_empty_payload_completes(served: Served) -> None:
    pid = served.worker.create_promise()
    assert complete(served.url, pid, b"").json() is True
    assert served.host.poll_promise(pid) == b""


@pytest.mark.parametrize("name", ["-alice", "x" * 101, "al.ice", "al%20ice", "%C3%A9"])
def test_invalid_worker_name_is_400_with_an_errors_list(served: Served, name: str) -> None:
    status, body = post(served.complete_url(name), complete_body(2, b"x"))
    assert status == 400
    assert isinstance(body, dict) and list(body) == ["errors"]
    assert len(body["errors"]) == 1 and "invalid worker name" in body["errors"][0]


def test_invalid_component_id_is_400(served: Served) -> None:
    status, body = post(served.complete_url(component="not-a-uuid"), complete_body(2, b"x"))
    assert status == 400
    assert isinstance(body, dict) and "invalid component id 'not-a-uuid'" in body["errors"][0]


def test_component_id_in_upper_case_is_accepted(served: Served) -> None:
    pid = served.worker.create_promise()
    status, body = post(served.complete_url(component=str(COMPONENT).upper()), complete_body(pid.oplog_idx, b"x"))
    assert (status, body) == (200, True)


def test_unknown_worker_is_404_with_an_error_and_is_not_created(served: Served) -> None:
    status, body = post(served.complete_url("nobody"), complete_body(2, b"x"))
    assert status == 404
    assert body == {"error": f"worker {COMPONENT}/nobody not found"}
    with pytest.raises(WorkerNotFound):
        served.host.oplog(f"{COMPONENT}/nobody")


def test_unknown_promise_is_500_with_golems_promise_not_found_body(served: Served) -> None:
    status, body = post(served.complete_url(component=str(COMPONENT).upper()), complete_body(99, b"x"))
    assert status == 500
    assert body == {
        "golemError": {
            "type": "PromiseNotFound",
            "promiseId": {
                "workerId": {"componentId": "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8", "workerName": "alice"},
                "oplogIdx": 99,
            },
        }
    }


def test_deleted_promise_is_500_promise_not_found(served: Served) -> None:
    pid = served.worker.create_promise()
    served.host.delete_promise(pid)
    r = complete(served.url, pid, b"late")
    assert r.status == 500
    assert r.json()["golemError"]["type"] == "PromiseNotFound"
    assert r.json()["golemError"]["promiseId"]["oplogIdx"] == pid.oplog_idx


MALFORMED = [
    ("not json", "not valid JSON"),
    ('{"oplogIdx": 2, "data": [1,', "not valid JSON"),
    ('{"oplogIdx": 2, "data": []} trailing', "not valid JSON"),
    ("", "not valid JSON"),
    ("[1]", "must be a JSON object"),
    ("42", "must be a JSON object"),
    ('{"data": [1]}', "missing field 'oplogIdx'"),
    ('{"oplogIdx": 2}', "missing field 'data'"),
    ('{"oplogIdx": "2", "data": []}', "field 'oplogIdx'"),
    ('{"oplogIdx": null, "data": []}', "field 'oplogIdx'"),
    ('{"oplogIdx": -1, "data": []}', "field 'oplogIdx'"),
    ('{"oplogIdx": 1.5, "data": []}', "field 'oplogIdx'"),
    ('{"oplogIdx": 18446744073709551616, "data": []}', "field 'oplogIdx'"),
    ('{"oplogIdx": 2, "data": "AQID"}', "field 'data'"),
    ('{"oplogIdx": 2, "data": null}', "field 'data'"),
    ('{"oplogIdx": 2, "data": [1, 256]}', "'data[1]'"),
    ('{"oplogIdx": 2, "data": [-1]}', "'data[0]'"),
    ('{"oplogIdx": 2, "data": [1.5]}', "'data[0]'"),
    ('{"oplogIdx": 2, "data": ["a"]}', "'data[0]'"),
    ('{"oplogIdx": 2, "data": [true]}', "'data[0]'"),
    ('{"oplogIdx": 2, "data": [[1]]}', "'data[0]'"),
    ('{"oplogIdx": 2, "oplogIdx": 2, "data": []}', "'oplogIdx' appears more than once"),
]


@pytest.mark.parametrize("body,names", MALFORMED, ids=[m[0][:40] or "empty" for m in MALFORMED])
def test_malformed_body_is_400_naming_the_field_and_changes_nothing(served: Served, body: str, names: str) -> None:
    pid = served.worker.create_promise()
    assert pid.oplog_idx == 2
    status, answer = post(served.complete_url(), body)
    assert status == 400
    assert isinstance(answer, dict) and len(answer["errors"]) == 1
    assert names in answer["errors"][0]
    assert served.host.poll_promise(pid) is None


def test_unknown_fields_are_ignored(served: Served) -> None:
    pid = served.worker.create_promise()
    status, body = post(served.complete_url(), json.dumps({"oplogIdx": pid.oplog_idx, "data": [7], "extra": {}}))
    assert (status, body) == (200, True)


def test_large_payload_round_trips(served: Served) -> None:
    pid = served.worker.create_promise()
    payload = bytes(range(256)) * 1024  # 256 KiB
    assert complete(served.url, pid, payload).json() is True
    assert served.worker.await_promise(pid, timeout=5) == payload


# ----------------------------------------------------------------------------- authentication


def test_token_missing_is_401_with_www_authenticate(served_token: Served) -> None:
    pid = served_token.worker.create_promise()
    r = complete(served_token.url, pid, b"x")
    assert r.status == 401
    assert r.json() == {"error": "authentication required: send 'Authorization: Bearer <token>'"}
    assert r.headers["www-authenticate"].startswith("Bearer")
    assert served_token.host.poll_promise(pid) is None


@pytest.mark.parametrize("header", [f"Bearer {TOKEN}x", "Bearer wrong", f"Bearer {TOKEN[:-1]}"])
def test_wrong_token_is_401(served_token: Served, header: str) -> None:
    pid = served_token.worker.create_promise()
    r = request("POST", served_token.complete_url(), complete_body(pid.oplog_idx, b"x"), {"Authorization": header})
    assert r.status == 401
    assert r.json() == {"error": "invalid bearer token"}
    assert 'error="invalid_token"' in r.headers["www-authenticate"]
    assert served_token.host.poll_promise(pid) is None


@pytest.mark.parametrize("header", [f"Basic {TOKEN}", TOKEN])
def test_other_schemes_are_401(served_token: Served, header: str) -> None:
    r = request("GET", f"{served_token.url}/healthz", headers={"Authorization": header})
    assert r.status == 401


def test_right_token_is_200(served_token: Served) -> None:
    pid = served_token.worker.create_promise()
    r = complete(served_token.url, pid, b"ok", token=TOKEN)
    assert (r.status, r.body) == (200, b"true")
    r = request("GET", f"{served_token.url}/healthz", headers={"Authorization": f"bearer  {TOKEN}"})
    assert (r.status, r.json()) == (200, {"status": "ok"})


def test_health_needs_the_token_too(served_token: Served) -> None:
    assert request("GET", f"{served_token.url}/healthz").status == 401


# ----------------------------------------------------------------------------- limits, paths, methods


def test_body_over_the_limit_is_413_and_changes_nothing() -> None:
    with Host(":memory:") as host, host.serve(max_body_bytes=100) as server:
        pid = host.worker(COMPONENT, "alice").create_promise()
        r = complete(server.url, pid, b"y" * 100)
        assert r.status == 413
        assert r.json() == {"error": "request body exceeds the limit of 100 bytes"}
        assert host.poll_promise(pid) is None
        assert complete(server.url, pid, b"y").json() is True


def test_the_default_body_limit_admits_a_16_mib_payload_of_any_bytes() -> None:
    # The header's promise (GP_SERVER_DEFAULT_MAX_BODY): 16 MiB of 0xff, the widest bytes in a
    # compact JSON array ("255," each), fit the default limit with the rest of the body.
    data = b"\xff" * (16 * 1024 * 1024)
    with Host(":memory:") as host, host.serve() as server:
        pid = host.worker(COMPONENT, "widest").create_promise()
        body = json.dumps({"oplogIdx": pid.oplog_idx, "data": list(data)}, separators=(",", ":"))
        assert len(body) > 4 * len(data)  # more than 64 MiB: the old default refused it
        r = request("POST", f"{server.url}{worker_path(pid.worker_id)}/complete", body, {"Content-Type": "application/json"})
        assert r.status == 200 and r.json() is True
        assert host.poll_promise(pid) == data


def _raw(port: int, head: str, body: bytes = b"") -> "tuple[int, object]":
    """Sends a hand-written request (headers a client library would not send) and reads the
    answer's status and JSON body."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            data += sock.recv(65536) or pytest.fail(f"connection closed after {data!r}")
        header, _, content = data.partition(b"\r\n\r\n")
        lines = header.decode().split("\r\n")
        length = next(int(v) for k, _, v in (line.partition(": ") for line in lines[1:]) if k.lower() == "content-length")
        while len(content) < length:
            content += sock.recv(65536) or pytest.fail("connection closed in the body")
    return int(lines[0].split()[1]), json.loads(content)


@pytest.mark.parametrize("length", ["abc", "-5", "+5", "5x", "99999999999999999999999"])
def test_malformed_content_length_is_400_naming_the_header(served: Served, length: str) -> None:
    pid = served.worker.create_promise()
    body = complete_body(pid.oplog_idx, b"x").encode()
    path = served.complete_url().split(str(served.server.port), 1)[1]
    status, answer = _raw(
        served.server.port, f"POST {path} HTTP/1.1\nHost: x\nContent-Length: {length}\n", body
    )
    assert status == 400
    assert answer == {"errors": [f"invalid Content-Length header '{length}': expected a decimal byte count"]}
    assert served.host.poll_promise(pid) is None


def test_two_content_lengths_are_400(served: Served) -> None:
    pid = served.worker.create_promise()
    body = complete_body(pid.oplog_idx, b"x").encode()
    path = served.complete_url().split(str(served.server.port), 1)[1]
    head = f"POST {path} HTTP/1.1\nHost: x\nContent-Length: {len(body)}\nContent-Length: 3\n"
    status, answer = _raw(served.server.port, head, body)
    assert (status, answer) == (400, {"errors": ["the Content-Length header must be given once"]})
    assert served.host.poll_promise(pid) is None


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v1",
        "/v1/components",
        f"/v1/components/{COMPONENT}/workers/alice/complete/",
        f"/v1/components/{COMPONENT}/workers/alice/complete/extra",
        f"/v1/components/{COMPONENT}/workers//complete",
        f"/v2/components/{COMPONENT}/workers/alice/complete",
        "/" + "a" * 8000,
    ],
)
def test_unknown_path_is_404(served: Served, path: str) -> None:
    r = request("POST", served.url + path, complete_body(2, b"x"))
    assert r.status == 404
    assert r.json()["error"].startswith("no such endpoint: POST ")


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_on_complete_is_405_with_allow(served: Served, method: str) -> None:
    r = request(method, served.complete_url())
    assert r.status == 405
    assert r.headers["allow"] == "POST"
    assert "is not allowed" in r.json()["error"]


def test_post_on_a_promise_is_405(served: Served) -> None:
    pid = served.worker.create_promise()
    r = request("POST", served.promise_url(pid), complete_body(pid.oplog_idx, b"x"))
    assert r.status == 405
    assert r.headers["allow"] == "GET, HEAD"
    assert served.host.poll_promise(pid) is None


# ----------------------------------------------------------------------------- GET extension


def test_get_promise_pending_then_completed(served: Served) -> None:
    pid = served.worker.create_promise()
    r = request("GET", served.promise_url(pid))
    assert (r.status, r.json()) == (200, {"state": "pending"})
    served.host.complete_promise(pid, b"\x01\x02\xff")
    r = request("GET", served.promise_url(pid))
    assert (r.status, r.json()) == (200, {"state": "completed", "data": [1, 2, 255]})
    head = request("HEAD", served.promise_url(pid))
    assert (head.status, head.body) == (200, b"")


def test_get_unknown_promise_is_404_promise_not_found(served: Served) -> None:
    pid = PromiseId(served.worker.worker_id, 77)
    r = request("GET", served.promise_url(pid))
    assert r.status == 404
    assert r.json()["golemError"]["type"] == "PromiseNotFound"
    assert r.json()["golemError"]["promiseId"]["oplogIdx"] == 77


def test_get_unknown_worker_and_bad_index(served: Served) -> None:
    r = request("GET", f"{served.url}/v1/components/{COMPONENT}/workers/nobody/promises/2")
    assert (r.status, r.json()) == (404, {"error": f"worker {COMPONENT}/nobody not found"})
    for bad in ["abc", "-1", "+1", "1.0", "18446744073709551616"]:
        r = request("GET", f"{served.url}{worker_path(served.worker.worker_id)}/promises/{bad}")
        assert r.status == 400, bad
        assert f"invalid oplog index '{bad}'" in r.json()["errors"][0]


def test_get_does_not_write_to_the_oplog(served: Served) -> None:
    pid = served.worker.create_promise()
    before = served.host.oplog(served.worker.worker_id)
    request("GET", served.promise_url(pid))
    complete(served.url, pid, b"x")
    assert served.host.oplog(served.worker.worker_id) == before


# ----------------------------------------------------------------------------- keep-alive, threads


def test_keep_alive_connection_serves_many_requests_on_one_socket(served: Served) -> None:
    pids = [served.worker.create_promise() for _ in range(50)]
    conn = keep_alive_connection(served.url)
    try:
        conn.connect()
        sock = conn.sock
        for i, pid in enumerate(pids):
            conn.request("POST", f"{worker_path(pid.worker_id)}/complete", complete_body(pid.oplog_idx, bytes([i])))
            resp = conn.getresponse()
            assert (resp.status, resp.read()) == (200, b"true")
            assert resp.getheader("Connection", "").lower() != "close", f"closed after request {i + 1}"
            assert conn.sock is sock  # http.client would reconnect silently
    finally:
        conn.close()
    assert [served.host.poll_promise(p) for p in pids] == [bytes([i]) for i in range(50)]


def test_concurrent_completions_have_exactly_one_winner(served: Served) -> None:
    pid = served.worker.create_promise()
    results: List[bytes] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        r = complete(served.url, pid, f"payload-{i}".encode())
        with lock:
            results.append(r.body)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [b"false"] * 15 + [b"true"]
    winner = served.host.poll_promise(pid)
    assert winner is not None and winner.startswith(b"payload-")


def test_await_in_this_process_wakes_on_http_completion(served: Served) -> None:
    pid = served.worker.create_promise()
    got: List[bytes] = []
    waiter = threading.Thread(target=lambda: got.append(served.worker.await_promise(pid, timeout=10)))
    waiter.start()
    time.sleep(0.1)
    assert complete(served.url, pid, b"woken").json() is True
    waiter.join(10)
    assert got == [b"woken"]


# ----------------------------------------------------------------------------- the Server object


def test_server_properties_and_idempotent_close() -> None:
    with Host(":memory:") as host:
        server = host.serve(token="t0k")
        assert isinstance(server, Server)
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert 0 < server.port < 65536
        assert server.token == "t0k" and server.host is host
        assert "t0k" not in repr(server)
        assert not server.closed
        server.close()
        server.close()
        assert server.closed
        with pytest.raises(OSError):
            request("GET", f"{server.url}/healthz", timeout=2)


def test_server_without_token_has_token_none(served: Served) -> None:
    assert served.server.token is None
    assert request("GET", f"{served.url}/healthz").json() == {"status": "ok"}


def test_bad_serve_arguments() -> None:
    with Host(":memory:") as host:
        with pytest.raises(ValueError):
            host.serve(port=-1)
        with pytest.raises(ValueError):
            host.serve(port=70000)
        with pytest.raises(ValueError):
            host.serve(token="")
        with pytest.raises(InvalidId):
            host.serve(token="has space")
        for not_ascii in ("caf\u00e9", "t\udcff"):  # a lone surrogate: undecodable argv bytes
            with pytest.raises(InvalidId, match="visible ASCII"):
                host.serve(token=not_ascii)
        with pytest.raises(ValueError, match="not valid text"):
            host.serve("\udcff")
        with pytest.raises(ValueError):
            host.serve(threads=0)
        with pytest.raises(ValueError):
            host.serve(max_body_bytes=0)
        with pytest.raises(TypeError):
            host.serve(port="80")  # type: ignore[arg-type]


def test_bad_serve_timeouts() -> None:
    with Host(":memory:") as host:
        for name in ("request_timeout", "idle_timeout"):
            for bad in (0, -1, 0.0, float("nan"), float("inf"), 3600.5):
                with pytest.raises(ValueError, match=name):
                    host.serve(**{name: bad})  # type: ignore[arg-type]
            for wrong in ("1", True, [1]):
                with pytest.raises(TypeError, match=name):
                    host.serve(**{name: wrong})  # type: ignore[arg-type]


def _read_until_closed(sock: socket.socket, limit: float) -> "tuple[bytes, float]":
    """Everything the server sends until it closes the connection, and how long that took."""
    t0 = time.monotonic()
    sock.settimeout(limit)
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return data, time.monotonic() - t0
        data += chunk


def test_request_and_idle_timeouts_reach_the_server() -> None:
    """Both well under the defaults (10 s and 2 s), so the server acting on them shows they
    were passed: a request line with nothing after it is answered 408, an idle keep-alive
    connection is closed."""
    with Host(":memory:") as host, host.serve(request_timeout=0.4, idle_timeout=0.3) as server:
        addr = ("127.0.0.1", server.port)
        with socket.create_connection(addr, timeout=10) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # the headers never end
            answer, took = _read_until_closed(slow, 10)
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert b"400 ms" in answer
        assert 0.3 < took < 5, took
        with socket.create_connection(addr, timeout=10) as idle:
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            answer, took = _read_until_closed(idle, 10)
        assert answer.startswith(b"HTTP/1.1 200"), answer
        assert 0.2 < took < 1.8, took  # closed after the 0.3 s idle timeout, not the default 2 s


def test_port_in_use_is_a_storage_error_naming_the_address() -> None:
    with Host(":memory:") as host, host.serve() as first:
        with pytest.raises(ListenError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            host.serve(port=first.port)


def test_server_keeps_serving_after_the_host_object_is_closed() -> None:
    host = Host(":memory:")
    pid = host.worker(COMPONENT, "alice").create_promise()
    with host.serve() as server:
        host.close()
        assert complete(server.url, pid, b"x").json() is True
        r = request("GET", f"{server.url}{worker_path(pid.worker_id)}/promises/{pid.oplog_idx}")
        assert r.json() == {"state": "completed", "data": [120]}


# ----------------------------------------------------------------------------- file hosts, processes


def test_completion_acknowledged_is_durable(tmp_path: Path) -> None:
    db = tmp_path / "durable.db"
    with Host(db) as host, host.serve() as server:
        pid = host.worker(COMPONENT, "alice").create_promise()
        assert complete(server.url, pid, b"kept").json() is True
    with Host(db) as again:
        assert again.poll_promise(pid) == b"kept"


WAITER = textwrap.dedent(
    """
    import sys
    from golem_promise import Host, WorkerId
    db, worker_id = sys.argv[1], WorkerId.parse(sys.argv[2])
    with Host(db) as host:
        worker = host.worker(worker_id.component_id, worker_id.worker_name, live=True)
        pid = worker.create_promise()
        print(pid, flush=True)
        data = worker.await_promise(pid, timeout=30)
        sys.stdout.write(data.hex() + "\\n")
    """
)


def test_waiter_in_another_process_is_woken_by_an_http_completion(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with Host(db) as host, host.serve() as server:
        proc = subprocess.Popen(
            [sys.executable, "-c", WAITER, str(db), f"{COMPONENT}/remote"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout is not None
            pid = PromiseId.parse(proc.stdout.readline().strip())
            time.sleep(0.3)  # let it block in await
            assert proc.poll() is None
            start = time.monotonic()
            assert complete(server.url, pid, b"\x00from http").json() is True
            line = proc.stdout.readline().strip()
            woke_after = time.monotonic() - start
            assert bytes.fromhex(line) == b"\x00from http"
            assert proc.wait(10) == 0
            assert woke_after < 5.0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        # The worker recorded its finished await, with the HTTP payload's length.
        entries = host.oplog(pid.worker_id)
        assert [e.kind for e in entries] == ["create", "create-promise", "await-promise"]
        assert entries[-1].payload_len == len(b"\x00from http")


HOST_WAITER = textwrap.dedent(
    """
    import sys
    from golem_promise import Host
    with Host(sys.argv[1]) as host:
        print("waiting", flush=True)
        sys.stdout.write(host.await_promise(sys.argv[2], timeout=30).decode() + "\\n")
    """
)


def test_host_level_waiter_in_another_process_is_woken(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with Host(db) as host, host.serve() as server:
        pid = host.worker(COMPONENT, "alice").create_promise()
        proc = subprocess.Popen(
            [sys.executable, "-c", HOST_WAITER, str(db), str(pid)], stdout=subprocess.PIPE, text=True
        )
        try:
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "waiting"
            time.sleep(0.2)
            assert complete(server.url, pid, b"go").json() is True
            assert proc.stdout.readline().strip() == "go"
            assert proc.wait(10) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
