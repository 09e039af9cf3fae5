"""The installed ``golem-promise`` command, run as a subprocess on temporary databases.

Round trips of every subcommand, each payload source, exit codes and messages, the database
defaults, and ``serve`` completed over HTTP and stopped with SIGTERM / SIGINT.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from golem_promise import GolemPromiseError, Host, PromiseId
from http_client import Response, complete, complete_body, keep_alive_connection, request, worker_path

COMPONENT = "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8"
WORKER = f"{COMPONENT}/alice"
SUBCOMMANDS = ["serve", "create", "complete", "poll", "await", "delete", "list", "oplog", "run"]


def _find_cli() -> str:
    """The console script installed next to this interpreter (by ``pip install .``)."""
    found = shutil.which("golem-promise", path=os.path.dirname(sys.executable))
    if found is None:
        pytest.fail(f"golem-promise is not installed next to {sys.executable}: run `pip install .`")
    return found


@dataclass
class Result:
    """A finished command."""

    code: int
    out: bytes
    err: str

    @property
    def text(self) -> str:
        return self.out.decode("utf-8")


class Cli:
    """Runs golem-promise in a temporary directory with a clean environment."""

    def __init__(self, exe: str, cwd: Path) -> None:
        self.exe = exe
        self.cwd = cwd
        self.db = str(cwd / "cli.db")
        self.env: Dict[str, str] = {k: v for k, v in os.environ.items() if not k.startswith("GOLEM_PROMISE_")}

    def run(self, *args: str, stdin: Optional[bytes] = None, db: Optional[str] = "default", timeout: float = 30) -> Result:
        """Runs ``golem-promise ARGS`` (with ``--db self.db`` after the subcommand unless db is None)."""
        argv = list(args)
        if db is not None and argv and argv[0] in SUBCOMMANDS:
            argv[1:1] = ["--db", self.db if db == "default" else db]
        proc = subprocess.run(
            [self.exe, *argv],
            input=stdin if stdin is not None else b"",
            capture_output=True,
            cwd=self.cwd,
            env=self.env,
            timeout=timeout,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr.decode("utf-8", "replace"))

    def create(self, worker: str = WORKER) -> str:
        r = self.run("create", worker)
        assert r.code == 0, r.err
        return r.text.strip()


@pytest.fixture(scope="module")
def exe() -> str:
    return _find_cli()


@pytest.fixture
def cli(exe: str, tmp_path: Path) -> Cli:
    return Cli(exe, tmp_path)


def _wait_until_open(pid: int, path: str, timeout: float = 15.0) -> None:
    """Waits until process pid has the file path open (it is then past its imports)."""
    target = os.path.realpath(path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            links = []
        if target in links:
            return
        time.sleep(0.02)
    pytest.fail(f"process {pid} did not open {path} within {timeout} s")


# ----------------------------------------------------------------------------- round trip


def test_round_trip(cli: Cli) -> None:
    pid = cli.create()
    assert pid == f"{WORKER}/2"
    assert cli.run("poll", pid).code == 2
    assert cli.run("complete", pid, "--data", "héllo").text == "true\n"
    assert cli.run("complete", pid, "--data", "again").text == "false\n"
    r = cli.run("poll", pid)
    assert (r.code, r.out) == (0, "héllo".encode())
    r = cli.run("await", pid, "--timeout", "5")
    assert (r.code, r.out) == (0, "héllo".encode())
    assert cli.run("list").text == f"{pid}\tcompleted\t{len('héllo'.encode())}\n"
    r = cli.run("delete", pid)
    assert (r.code, r.out, r.err) == (0, b"", "")
    assert cli.run("delete", pid).code == 0  # idempotent
    r = cli.run("poll", pid)
    assert r.code == 4 and "not found" in r.err
    assert cli.run("list").out == b""
    kinds = [json.loads(line)["kind"] for line in cli.run("oplog", WORKER).text.splitlines()]
    assert kinds == ["create", "create-promise"]  # only create is a worker-level call


def test_create_on_an_existing_worker_makes_new_promises(cli: Cli) -> None:
    ids = [cli.create() for _ in range(3)]
    assert [PromiseId.parse(i).oplog_idx for i in ids] == [2, 3, 4]
    kinds = [json.loads(line)["kind"] for line in cli.run("oplog", WORKER).text.splitlines()]
    assert kinds == ["create"] + ["create-promise"] * 3


def test_created_promise_is_visible_to_the_library(cli: Cli) -> None:
    pid = cli.create()
    with Host(cli.db) as host:
        assert host.poll_promise(pid) is None
        assert host.complete_promise(pid, b"from python")
    assert cli.run("await", pid).out == b"from python"


# ----------------------------------------------------------------------------- payload sources


def test_payload_from_data_is_utf8(cli: Cli) -> None:
    pid = cli.create()
    cli.run("complete", pid, "--data", "ünïcode ✓")
    assert cli.run("poll", pid).out == "ünïcode ✓".encode()


def test_payload_from_json_is_validated_and_compact(cli: Cli) -> None:
    pid = cli.create()
    assert cli.run("complete", pid, "--json", '{ "approved" : true, "n": [1, 2] }').text == "true\n"
    assert cli.run("poll", pid).out == b'{"approved":true,"n":[1,2]}'


@pytest.mark.parametrize("value", ["{", "nope", "NaN", "[1,]", ""])
def test_invalid_json_is_exit_1_and_completes_nothing(cli: Cli, value: str) -> None:
    pid = cli.create()
    r = cli.run("complete", pid, "--json", value)
    assert r.code == 1
    assert "--json" in r.err and "not valid JSON" in r.err
    assert cli.run("poll", pid).code == 2


def test_payload_from_file_is_binary(cli: Cli, tmp_path: Path) -> None:
    pid = cli.create()
    payload = bytes(range(256)) * 300
    (tmp_path / "payload.bin").write_bytes(payload)
    assert cli.run("complete", pid, "--file", str(tmp_path / "payload.bin")).text == "true\n"
    assert cli.run("poll", pid).out == payload
    assert json.loads(cli.run("list", "--json").text)["payload_len"] == len(payload)


def test_payload_from_stdin(cli: Cli) -> None:
    pid = cli.create()
    assert cli.run("complete", pid, stdin=b"\x00piped\xff").text == "true\n"
    assert cli.run("poll", pid).out == b"\x00piped\xff"
    pid2 = cli.create()
    assert cli.run("complete", pid2, "--file", "-", stdin=b"dash").text == "true\n"
    assert cli.run("await", pid2).out == b"dash"


def test_missing_file_is_exit_1(cli: Cli, tmp_path: Path) -> None:
    pid = cli.create()
    r = cli.run("complete", pid, "--file", str(tmp_path / "nope.bin"))
    assert r.code == 1 and "cannot read" in r.err and "nope.bin" in r.err


def test_two_payload_sources_are_a_usage_error(cli: Cli) -> None:
    pid = cli.create()
    r = cli.run("complete", pid, "--data", "a", "--json", "1")
    assert r.code == 1
    assert "not allowed with argument" in r.err
    assert cli.run("poll", pid).code == 2


# ----------------------------------------------------------------------------- poll, await, list, oplog


def test_poll_json(cli: Cli) -> None:
    pid = cli.create()
    r = cli.run("poll", "--json", pid)
    assert (r.code, json.loads(r.text)) == (0, {"state": "pending"})
    cli.run("complete", pid, "--data", "ok")
    assert json.loads(cli.run("poll", pid, "--json").text) == {"state": "completed", "data": [111, 107], "text": "ok"}
    pid2 = cli.create()
    cli.run("complete", pid2, stdin=b"\xff\xfe")
    assert json.loads(cli.run("poll", pid2, "--json").text) == {"state": "completed", "data": [255, 254]}


def test_poll_pending_prints_nothing_and_exits_2(cli: Cli) -> None:
    r = cli.run("poll", cli.create())
    assert (r.code, r.out, r.err) == (2, b"", "")


def test_await_timeout_is_exit_3_with_a_message(cli: Cli) -> None:
    pid = cli.create()
    start = time.monotonic()
    r = cli.run("await", pid, "--timeout", "0.3")
    assert r.code == 3
    assert r.out == b""
    assert "timed out after 0.3 s" in r.err and pid in r.err
    assert time.monotonic() - start >= 0.3
    assert cli.run("poll", pid).code == 2


def test_await_json_and_not_found(cli: Cli) -> None:
    pid = cli.create()
    cli.run("complete", pid, "--json", '"yes"')
    assert json.loads(cli.run("await", pid, "--json").text)["text"] == '"yes"'
    r = cli.run("await", f"{WORKER}/99", "--timeout", "1")
    assert r.code == 4 and "not found" in r.err


def test_complete_of_a_missing_promise_is_exit_4(cli: Cli) -> None:
    pid = cli.create()
    cli.run("delete", pid)
    for missing in (pid, f"{WORKER}/99"):
        r = cli.run("complete", missing, "--data", "late")
        assert (r.code, r.out) == (4, b""), r.err
        assert "not found" in r.err


def test_await_is_woken_by_another_command(cli: Cli) -> None:
    pid = cli.create()
    waiter = subprocess.Popen(
        [cli.exe, "await", "--db", cli.db, pid, "--timeout", "20"], stdout=subprocess.PIPE, env=cli.env
    )
    try:
        time.sleep(0.5)
        assert cli.run("complete", pid, "--data", "wake").text == "true\n"
        out, _ = waiter.communicate(timeout=20)
        assert (waiter.returncode, out) == (0, b"wake")
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()


def test_list_filters_and_json(cli: Cli) -> None:
    a1, a2 = cli.create(), cli.create()
    b1 = cli.create(f"{COMPONENT}/bob")
    cli.run("complete", a2, "--data", "xyz")
    lines = cli.run("list").text.splitlines()
    assert lines == [f"{a1}\tpending\t-", f"{a2}\tcompleted\t3", f"{b1}\tpending\t-"]
    assert cli.run("list", "--worker", WORKER).text.splitlines() == lines[:2]
    assert cli.run("list", "--state", "pending").text.splitlines() == [lines[0], lines[2]]
    assert cli.run("list", "--state", "completed", "--worker", WORKER).text.splitlines() == [lines[1]]
    rows = [json.loads(line) for line in cli.run("list", "--json").text.splitlines()]
    assert rows == [
        {"promise_id": a1, "state": "pending", "payload_len": None},
        {"promise_id": a2, "state": "completed", "payload_len": 3},
        {"promise_id": b1, "state": "pending", "payload_len": None},
    ]


def test_list_errors(cli: Cli) -> None:
    cli.create()
    r = cli.run("list", "--worker", f"{COMPONENT}/nobody")
    assert r.code == 4 and "no worker" in r.err
    r = cli.run("list", "--state", "deleted")
    assert r.code == 1 and "invalid choice" in r.err


def test_oplog_json_lines(cli: Cli) -> None:
    pid = cli.create()
    with Host(cli.db) as host:
        worker = host.worker(PromiseId.parse(pid).worker_id.component_id, "alice", live=True)
        worker.complete_promise(pid, b"abc")
        worker.poll_promise(pid)
    entries = [json.loads(line) for line in cli.run("oplog", WORKER).text.splitlines()]
    assert [e["idx"] for e in entries] == [1, 2, 3, 4]
    assert [e["kind"] for e in entries] == ["create", "create-promise", "complete-promise", "poll-promise"]
    for e in entries:
        assert set(e) == {
            "idx", "kind", "status", "promise_id", "result_flag", "payload_len", "payload_hash", "timestamp_us"
        }
        assert e["status"] == 0 and isinstance(e["timestamp_us"], int) and e["timestamp_us"] > 0
    assert entries[0]["promise_id"] is None and entries[0]["payload_len"] is None
    assert entries[1]["promise_id"] == pid
    assert entries[2]["result_flag"] is True and entries[2]["payload_len"] == 3
    assert entries[2]["payload_hash"] == "e71fa2190541574b"  # FNV-1a 64 of b"abc"
    assert entries[3]["payload_hash"] == entries[2]["payload_hash"]


def test_oplog_unknown_worker_is_exit_4(cli: Cli) -> None:
    cli.create()
    r = cli.run("oplog", f"{COMPONENT}/nobody")
    assert r.code == 4 and f"{COMPONENT}/nobody" in r.err


# ----------------------------------------------------------------------------- errors, help, defaults


@pytest.mark.parametrize(
    "args",
    [
        ["poll", "not-an-id"],
        ["complete", f"{COMPONENT}/alice", "--data", "x"],
        ["await", f"{WORKER}/x"],
        ["delete", "x/y/1"],
        ["create", f"{COMPONENT}/-bad"],
        ["create", "nope/alice"],
        ["oplog", "nope"],
    ],
)
def test_malformed_ids_are_exit_1(cli: Cli, args: List[str]) -> None:
    cli.create()
    r = cli.run(*args)
    assert r.code == 1, r.err
    assert r.err.startswith(f"golem-promise {args[0]}: error: invalid")


def test_usage_errors_are_exit_1(cli: Cli) -> None:
    for args in (["frobnicate"], [], ["poll"], ["await", f"{WORKER}/2", "--timeout", "-1"], ["serve", "--port", "70000"]):
        r = cli.run(*args)
        assert r.code == 1, args
        assert "usage:" in r.err


@pytest.mark.parametrize(
    "args,names",
    [
        (["serve", "--threads", "2000"], "--threads"),
        (["serve", "--threads", "0"], "--threads"),
        (["serve", "--max-body-bytes", "99999999999999999999999"], "--max-body-bytes"),
        (["serve", "--max-body-bytes", "0"], "--max-body-bytes"),
        (["serve", "--host", ""], "--host"),
        (["serve", "--request-timeout", "0"], "--request-timeout"),
        (["serve", "--request-timeout", "soon"], "--request-timeout"),
        (["serve", "--idle-timeout", "3601"], "--idle-timeout"),
        (["serve", "--idle-timeout", "nan"], "--idle-timeout"),
    ],
)
def test_out_of_range_serve_options_are_usage_errors(cli: Cli, args: List[str], names: str) -> None:
    r = cli.run(*args, timeout=15)
    assert r.code == 1, r.err
    assert "usage:" in r.err and f"argument {names}" in r.err
    assert "Traceback" not in r.err and r.out == b""


@pytest.mark.parametrize(
    "args,names",
    [
        (["create", f"{WORKER}\udcff"], "worker id"),
        (["poll", f"{WORKER}\udcff/2"], "promise id"),
        (["list", "--worker", "\udcff"], "worker id"),
        (["serve", "--token", "t\udcff"], "--token"),
        (["serve", "--host", "\udcff"], "--host"),
    ],
)
def test_arguments_that_are_not_utf8_are_clear_errors(cli: Cli, args: List[str], names: str) -> None:
    """Undecodable argument bytes (os.fsencode turns the surrogate back into the byte 0xff)."""
    cli.create()
    r = cli.run(*args, timeout=15)
    assert r.code == 1, r.err
    assert names in r.err and "not valid UTF-8" in r.err
    assert "Traceback" not in r.err


def test_a_database_path_that_is_not_utf8_is_a_clear_error(cli: Cli) -> None:
    r = cli.run("create", WORKER, db=str(cli.cwd / "\udcff.db"))
    assert r.code == 1 and "database path" in r.err and "not valid UTF-8" in r.err
    assert "Traceback" not in r.err


def test_data_that_is_not_utf8_is_sent_as_its_bytes(cli: Cli) -> None:
    pid = cli.create()
    assert cli.run("complete", pid, "--data", "\udcffok").text == "true\n"
    assert cli.run("poll", pid).out == b"\xffok"


def test_json_numbers_out_of_range_are_refused(cli: Cli) -> None:
    pid = cli.create()
    for value in ("1e999", "[-1e400]"):
        r = cli.run("complete", pid, "--json", value)
        assert r.code == 1 and "not valid JSON" in r.err and "out of range" in r.err, r.err
        assert "Traceback" not in r.err
    assert cli.run("poll", pid).code == 2


def test_help_on_every_level(cli: Cli) -> None:
    r = cli.run("--help", db=None)
    assert r.code == 0
    for name in SUBCOMMANDS:
        assert name in r.text
    assert "exit codes:" in r.text
    for name in SUBCOMMANDS:
        r = cli.run(name, "--help", db=None)
        assert r.code == 0, name
        assert r.text.startswith(f"usage: golem-promise {name}")
        assert "--db PATH" in r.text and "exit codes:" in r.text


def test_version(cli: Cli) -> None:
    r = cli.run("--version", db=None)
    assert r.code == 0 and r.text.startswith("golem-promise ")


def test_missing_database_is_exit_1_and_not_created(cli: Cli) -> None:
    missing = str(cli.cwd / "missing.db")
    for args in (["poll", f"{WORKER}/2"], ["list"], ["oplog", WORKER], ["complete", f"{WORKER}/2", "--data", "x"]):
        r = cli.run(*args, db=missing)
        assert r.code == 1 and "does not exist" in r.err, args
    assert not os.path.exists(missing)


def test_database_from_environment_then_default(cli: Cli) -> None:
    env_db = cli.cwd / "from-env.db"
    cli.env["GOLEM_PROMISE_DB"] = str(env_db)
    pid = cli.run("create", WORKER, db=None).text.strip()
    assert env_db.exists()
    assert cli.run("poll", "--json", pid, db=None).text.strip() == '{"state":"pending"}'
    del cli.env["GOLEM_PROMISE_DB"]
    pid2 = cli.run("create", WORKER, db=None).text.strip()
    assert (cli.cwd / "golem-promise.db").exists()
    assert pid2 == pid  # a fresh database: the same first index
    assert cli.run("--db", str(env_db), "list", db=None).text.startswith(pid)


def _error_classes(cls: type = GolemPromiseError) -> Iterator[type]:
    yield cls
    subclasses: List[type] = cls.__subclasses__()
    for sub in subclasses:
        yield from _error_classes(sub)


def _assert_plain_message(err: str) -> None:
    """An error line is a message for people: no Python class name such as '(SchemaError)'."""
    assert err.count("\n") == 1 and "Traceback" not in err, err
    for cls in _error_classes():
        assert f"({cls.__name__})" not in err, err


def test_foreign_file_is_a_clear_error(cli: Cli) -> None:
    (cli.cwd / "text.db").write_text("not a database " * 100)
    r = cli.run("list", db=str(cli.cwd / "text.db"))
    assert r.code == 1 and "not a golem-promise database" in r.err
    _assert_plain_message(r.err)


def test_serve_with_a_token_the_library_refuses_is_a_plain_error(cli: Cli) -> None:
    r = cli.run("serve", "--port", "0", "--token", "t\u00f6ken")
    assert r.code == 1 and r.err.startswith("golem-promise serve: error: server token must be visible ASCII"), r.err
    _assert_plain_message(r.err)


# ----------------------------------------------------------------------------- serve


class Serving:
    """A ``golem-promise serve`` subprocess and the URL it printed."""

    def __init__(self, cli: Cli, *args: str) -> None:
        self.proc = subprocess.Popen(
            [cli.exe, "serve", "--db", cli.db, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=cli.env,
            text=True,
        )
        assert self.proc.stdout is not None
        self.url = self.proc.stdout.readline().strip()

    def stop(self, sig: int = signal.SIGTERM) -> "tuple[int, str, str]":
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=15)
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()


@pytest.fixture
def serving(cli: Cli) -> Iterator[Serving]:
    s = Serving(cli, "--token", "tok3n")
    try:
        yield s
    finally:
        s.kill()


def test_serve_prints_the_url_completes_over_http_and_stops_on_sigterm(cli: Cli, serving: Serving) -> None:
    assert serving.url.startswith("http://127.0.0.1:")
    pid = cli.create()
    assert complete(serving.url, pid, b"x").status == 401
    r = complete(serving.url, pid, b"over http", token="tok3n")
    assert (r.status, r.body) == (200, b"true")
    assert cli.run("poll", pid).out == b"over http"
    code, out, err = serving.stop(signal.SIGTERM)
    assert code == 0, err
    assert out == ""  # the URL was the only line
    assert "SIGTERM received, stopping" in err


def test_serve_stops_cleanly_on_ctrl_c(cli: Cli) -> None:
    s = Serving(cli)
    try:
        assert request("GET", f"{s.url}/healthz").json() == {"status": "ok"}
        code, _, err = s.stop(signal.SIGINT)
        assert code == 0, err
        assert "SIGINT received" in err
    finally:
        s.kill()


def test_cli_await_is_woken_by_a_completion_through_serve(cli: Cli, serving: Serving) -> None:
    pid = cli.create()
    waiter = subprocess.Popen([cli.exe, "await", "--db", cli.db, pid, "--timeout", "20"], stdout=subprocess.PIPE, env=cli.env)
    try:
        time.sleep(0.5)
        assert complete(serving.url, pid, b"\x00hook", token="tok3n").body == b"true"
        out, _ = waiter.communicate(timeout=20)
        assert (waiter.returncode, out) == (0, b"\x00hook")
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()


def test_serve_token_from_environment(cli: Cli) -> None:
    cli.env["GOLEM_PROMISE_TOKEN"] = "envtok"
    s = Serving(cli, "--port", "0")
    try:
        assert request("GET", f"{s.url}/healthz").status == 401
        assert request("GET", f"{s.url}/healthz", headers={"Authorization": "Bearer envtok"}).status == 200
    finally:
        s.kill()


def test_serve_on_a_port_in_use_is_exit_1(cli: Cli, serving: Serving) -> None:
    port = serving.url.rsplit(":", 1)[1]
    r = cli.run("serve", "--port", port, timeout=15)
    assert r.code == 1
    assert f"cannot listen on 127.0.0.1:{port}" in r.err
    assert r.out == b""


def test_ctrl_c_stops_an_await_with_exit_130(cli: Cli) -> None:
    pid = cli.create()
    waiter = subprocess.Popen(
        [cli.exe, "await", "--db", cli.db, pid], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=cli.env
    )
    try:
        _wait_until_open(waiter.pid, cli.db)
        time.sleep(0.2)
        waiter.send_signal(signal.SIGINT)
        out, err = waiter.communicate(timeout=15)
        assert waiter.returncode == 130
        assert out == b"" and b"interrupted" in err
    finally:
        if waiter.poll() is None:
            waiter.kill()
            waiter.wait()
    assert cli.run("poll", pid).code == 2


def _can_bind(address: str) -> bool:
    import socket

    try:
        with socket.socket() as s:
            s.bind((address, 0))
    except OSError:
        return False
    return True


def test_serve_listens_on_the_given_host_only(cli: Cli) -> None:
    if not _can_bind("127.0.0.2"):
        pytest.skip("127.0.0.2 cannot be bound on this machine")
    s = Serving(cli, "--host", "127.0.0.2")
    try:
        assert s.url.startswith("http://127.0.0.2:")
        assert request("GET", f"{s.url}/healthz").status == 200
        port = s.url.rsplit(":", 1)[1]
        with pytest.raises(OSError):  # nothing listens on 127.0.0.1 at that port
            request("GET", f"http://127.0.0.1:{port}/healthz", timeout=2)
    finally:
        s.kill()


def test_serve_on_an_address_not_on_this_machine_is_exit_1(cli: Cli) -> None:
    r = cli.run("serve", "--host", "192.0.2.1", timeout=15)  # TEST-NET-1: never local
    assert r.code == 1
    assert "cannot listen on 192.0.2.1:" in r.err and "Traceback" not in r.err


def test_serve_max_body_bytes_and_threads_reach_the_server(cli: Cli) -> None:
    pid = cli.create()
    s = Serving(cli, "--max-body-bytes", "100", "--threads", "1")
    try:
        r = complete(s.url, pid, b"y" * 100)
        assert (r.status, r.json()) == (413, {"error": "request body exceeds the limit of 100 bytes"})
        assert cli.run("poll", pid).code == 2
        assert complete(s.url, pid, b"small").json() is True
    finally:
        s.kill()


def test_serve_request_and_idle_timeouts_reach_the_server(cli: Cli) -> None:
    s = Serving(cli, "--request-timeout", "0.4", "--idle-timeout", "0.3")
    try:
        with _connect(s.url) as slow:
            slow.sendall(b"GET /healthz HTTP/1.1\r\n")  # and nothing more
            slow.settimeout(10)
            t0 = time.monotonic()
            answer = slow.recv(65536)
            assert answer.startswith(b"HTTP/1.1 408"), answer
            assert time.monotonic() - t0 < 5  # the default would be 10 s
        with _connect(s.url) as idle:
            idle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            idle.settimeout(10)
            t0 = time.monotonic()
            data = b""
            while chunk := idle.recv(65536):
                data += chunk
            assert data.startswith(b"HTTP/1.1 200"), data
            assert time.monotonic() - t0 < 1.8  # closed after 0.3 s idle, not the default 2 s
    finally:
        s.kill()


class _Trickler:
    """A client that sends a request line, then one header line every ``every`` seconds."""

    def __init__(self, url: str, every: float = 0.2, for_at_most: float = 40.0) -> None:
        self.sock = _connect(url)
        self.sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every, for_at_most), daemon=True)
        self._thread.start()

    def _run(self, every: float, for_at_most: float) -> None:
        until = time.monotonic() + for_at_most
        i = 0
        while not self._stop.wait(every) and time.monotonic() < until:
            try:
                self.sock.sendall(f"X-Slow-{i}: 1\r\n".encode())
            except OSError:
                return
            i += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


def _connect(url: str) -> socket.socket:
    host, _, port = url.split("://", 1)[1].rpartition(":")
    return socket.create_connection((host.strip("[]"), int(port)), timeout=10)


def test_serve_stops_at_once_on_sigterm_whatever_its_clients_do(cli: Cli) -> None:
    """SIGTERM stops the server without waiting for any client: one trickling a header line
    every 0.2 s (it held the stop for as long as it went on), one gone quiet halfway through a
    POST body, one that never sent a byte, and an idle keep-alive connection."""
    pid = PromiseId.parse(cli.create())
    s = Serving(cli)
    trickler = _Trickler(s.url)
    half_post, silent = _connect(s.url), _connect(s.url)
    conn = keep_alive_connection(s.url)
    try:
        body = complete_body(pid.oplog_idx, b"never").encode()
        half_post.sendall(
            f"POST {worker_path(pid.worker_id)}/complete HTTP/1.1\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            + body[:5]
        )
        conn.request("GET", "/healthz")
        assert conn.getresponse().read() == b'{"status":"ok"}'
        time.sleep(0.5)
        started = time.monotonic()
        s.proc.send_signal(signal.SIGTERM)
        _, err = s.proc.communicate(timeout=15)
        assert s.proc.returncode == 0, err
        assert time.monotonic() - started < 3  # the process exits; the server itself takes milliseconds
        assert "SIGTERM received, stopping" in err and "error" not in err
        assert cli.run("poll", str(pid)).code == 2  # the half-sent completion did nothing
    finally:
        trickler.close()
        for sock in (half_post, silent):
            sock.close()
        conn.close()
        s.kill()


@pytest.mark.parametrize("second", [None, signal.SIGTERM, signal.SIGINT])
def test_serve_finishes_a_completion_in_progress_on_sigterm(cli: Cli, second: Optional[int]) -> None:
    """Stopping waits for a completion already being handled (here waiting for another
    connection's write lock) and sends its answer; a second SIGTERM or Ctrl-C meanwhile is part of
    the same clean stop."""
    pid = cli.create()
    s = Serving(cli)
    other = sqlite3.connect(cli.db, isolation_level=None, timeout=0)
    answers: List[Response] = []
    completer = threading.Thread(target=lambda: answers.append(complete(s.url, pid, b"late")))
    try:
        other.execute("BEGIN IMMEDIATE")
        completer.start()
        time.sleep(0.5)  # the completion waits for the lock (the host's busy timeout is 5 s)
        s.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert s.proc.poll() is None  # still stopping: the completion holds it
        if second is not None:
            s.proc.send_signal(second)
            time.sleep(0.2)
        other.execute("COMMIT")
        _, err = s.proc.communicate(timeout=15)
        completer.join(10)
        assert s.proc.returncode == 0, err
        assert "SIGTERM received, stopping" in err and "error" not in err
        assert [(r.status, r.body) for r in answers] == [(200, b"true")]
        assert cli.run("poll", pid).out == b"late"
    finally:
        other.close()
        if completer.is_alive():
            completer.join(10)
        s.kill()


def test_a_200_true_survives_killing_the_server_right_after_it(cli: Cli) -> None:
    """The completion is committed (synchronous FULL) before the answer is sent, so SIGKILL
    straight after the 200 loses nothing."""
    pids = [cli.create() for _ in range(20)]
    s = Serving(cli)
    try:
        conn = keep_alive_connection(s.url)
        for i, pid in enumerate(pids):
            p = PromiseId.parse(pid)
            conn.request("POST", f"{worker_path(p.worker_id)}/complete", complete_body(p.oplog_idx, bytes([i])))
            response = conn.getresponse()
            assert (response.status, response.read()) == (200, b"true")
        s.proc.kill()
        s.proc.wait(10)
        conn.close()
    finally:
        s.kill()
    with Host(cli.db) as host:
        assert [host.poll_promise(p) for p in pids] == [bytes([i]) for i in range(20)]
