"""Real Golem components (built by componentize-py, run by wasmtime) against golem-promise.

Each test runs on a file host.  The components are built from the sources in the repo by
component_builds.py (cached by source hash); see docs/components.md.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import pytest

from component_builds import CACHE_DIR, OPLOG_INDEX_WAT, ROOT, build
from golem_promise import Host, OplogEntry, PromiseId, WorkerId
from golem_promise.components import (
    ComponentTrap,
    ExportNotFound,
    InvalidArguments,
    InvalidComponent,
    UnimplementedImport,
    load_component,
)
from golem_promise.components.testing import ComponentRunner
from http_client import complete

@pytest.fixture
def host(tmp_path: Path) -> Iterator[Host]:
    with Host(str(tmp_path / "components.db")) as h:
        yield h


def _runner(path: Path, host: Host) -> ComponentRunner:
    return ComponentRunner.load(path, host, cache_dir=CACHE_DIR)


def _promise_record(pid: PromiseId) -> Dict[str, Any]:
    """A promise id as the JSON of the WIT promise-id record."""
    u = pid.worker_id.component_id.uuid
    return {
        "worker-id": {
            "component-id": {"uuid": {"high-bits": u.high_bits, "low-bits": u.low_bits}},
            "worker-name": pid.worker_id.worker_name,
        },
        "oplog-idx": pid.oplog_idx,
    }


# A runner's own records: its invocations, and the WASI calls and output it made durable.
_RUNNER_KINDS = {"imported-function-invoked", "exported-function-invoked", "exported-function-completed"}


def _calls(host: Host, worker: WorkerId) -> List[OplogEntry]:
    """The worker's creation and promise calls, without the runner's records."""
    return [e for e in host.oplog(worker) if e.kind not in _RUNNER_KINDS]


def _kinds(host: Host, worker: WorkerId) -> List[str]:
    return [e.kind for e in _calls(host, worker)]


def _invocations(host: Host, worker: WorkerId) -> List[Tuple[str, Optional[str]]]:
    return [(e.kind, e.function) for e in host.oplog(worker) if e.kind.startswith("exported-")]


# ------------------------------------------------------------------------- the approval flow


def test_approval_completed_by_the_host(approval_wasm: Path, host: Host) -> None:
    runner = _runner(approval_wasm, host)
    run = runner.start("golem:it/api.{run-approval}", ["order-7"], worker="approval-1")
    promise = run.awaited_promise()
    assert promise.worker_id == run.worker_id
    assert not run.done
    assert f"awaits promise {promise}" in run.stdout.decode()
    assert host.complete_promise(promise, b'{"approved": true, "by": "ana"}') is True
    assert run.result() == {"ok": {"request": "order-7", "approved": True, "by": "ana"}}
    # create (entry 1), the component's create-promise, then the finished await.
    assert _kinds(host, run.worker_id) == ["create", "create-promise", "await-promise"]
    assert _calls(host, run.worker_id)[2].promise_id == promise
    # The invocation is recorded around them, as Golem records it.
    export = "golem:it/api.{run-approval}"
    assert _invocations(host, run.worker_id) == [("exported-function-invoked", export), ("exported-function-completed", export)]


def test_a_bad_payload_is_the_exports_err(approval_wasm: Path, host: Host) -> None:
    runner = _runner(approval_wasm, host)
    run = runner.start("run-approval", ["order-8"], worker="approval-2")
    host.complete_promise(run.awaited_promise(), b"maybe")
    result = run.result()
    assert set(result) == {"err"} and "not a decision" in result["err"]


def test_completed_by_a_second_component(approval_wasm: Path, probe_wasm: Path, host: Host) -> None:
    approvals = _runner(approval_wasm, host)
    probe = _runner(probe_wasm, host)
    first = approvals.start("golem:it/api.{run-approval}", ["a"], worker="asker-1")
    second = approvals.start("golem:it/api.{run-approval}", ["b"], worker="asker-2")
    p1, p2 = first.awaited_promise(), second.awaited_promise()
    # Another instance of the approval component completes the first, by the promise's text.
    assert approvals.invoke("golem:it/api.{approve}", [str(p1), True, "bob"], worker="approver") is True
    assert approvals.invoke("golem:it/api.{approve}", [str(p1), False, "eve"], worker="approver") is False
    # A different component completes the second with raw bytes, by the WIT record.
    payload = list(b'{"approved": false}')
    assert probe.invoke("golem:it/probe.{complete}", [_promise_record(p2), payload], worker="prober") is True
    assert first.result() == {"ok": {"request": "a", "approved": True, "by": "bob"}}
    assert second.result() == {"ok": {"request": "b", "approved": False, "by": None}}
    # The completing workers' oplogs record their complete-promise calls.
    approver = WorkerId(approvals.component_id, "approver")
    assert _kinds(host, approver) == ["create", "complete-promise", "complete-promise"]
    assert [e.result_flag for e in _calls(host, approver)[1:]] == [True, False]
    assert _kinds(host, WorkerId(probe.component_id, "prober")) == ["create", "complete-promise"]


def test_two_instances_await_in_two_threads_at_once(probe_wasm: Path, host: Host) -> None:
    runner = _runner(probe_wasm, host)
    pa = PromiseId.parse(_text(runner.invoke("create", [], worker="one")))
    pb = PromiseId.parse(_text(runner.invoke("create", [], worker="two")))
    a = runner.start("golem:it/probe.{wait}", [_promise_record(pa)], worker="one")
    b = runner.start("golem:it/probe.{wait}", [_promise_record(pb)], worker="two")
    assert a.awaited_promise() == pa and b.awaited_promise() == pb
    assert a.instance is not b.instance
    host.complete_promise(pb, b"second")  # the later one first: neither blocks the other
    assert b.result() == list(b"second")
    assert not a.done
    host.complete_promise(pa, b"first")
    assert a.result() == list(b"first")


def _text(record: Dict[str, Any]) -> str:
    w = record["worker-id"]
    u = w["component-id"]["uuid"]
    import uuid as _uuid

    return f"{_uuid.UUID(int=(u['high-bits'] << 64) | u['low-bits'])}/{w['worker-name']}/{record['oplog-idx']}"


def test_promise_calls_from_inside_the_component(probe_wasm: Path, host: Host) -> None:
    runner = _runner(probe_wasm, host)
    inst = runner.instance("caller")
    record = inst.invoke("golem:it/probe.{create}")
    pid = PromiseId.parse(_text(record))
    assert pid.worker_id == WorkerId(runner.component_id, "caller")
    assert inst.invoke("poll", [record]) is None
    assert host.poll_promise(pid) is None
    assert host.complete_promise(pid, b"\x00\xff") is True
    assert inst.invoke("poll", [record]) == [0, 255]
    assert inst.invoke("wait", [record]) == [0, 255]
    index = inst.invoke("oplog-index")
    inst.invoke("delete", [record])
    assert host.list_promises(pid.worker_id) == []
    assert _kinds(host, pid.worker_id) == [
        "create", "create-promise", "poll-promise", "poll-promise", "await-promise", "get-oplog-index", "delete-promise",
    ]
    # Its index counts every entry before it, the runner's records included.
    assert index == [e.kind for e in host.oplog(pid.worker_id)].index("get-oplog-index") + 1
    # Awaiting a deleted promise traps with the library's PromiseNotFound, named.
    with pytest.raises(ComponentTrap, match=r"await-promise: PromiseNotFound"):
        inst.invoke("wait", [record])


# ------------------------------------------------------------------------------ JSON values

EVERYTHING = {
    "name": "Žluťoučký kůň",
    "count": 2**64 - 1,
    "delta": -(2**31),
    "ratio": 0.25,
    "initial": ord("λ"),
    "tags": ["a", "", "c"],
    "bytes": [0, 1, 255],
    "maybe": 7,
    "color": "green",
    "perms": ["read", "exec"],
    "shape": {"circle": 1.5},
    "pair": ["x", True],
    "outcome": {"err": "nope"},
}


def test_every_kind_of_value_round_trips(probe_wasm: Path, host: Host) -> None:
    inst = _runner(probe_wasm, host).instance("values")
    assert inst.invoke("golem:it/probe.{echo}", [EVERYTHING]) == EVERYTHING
    variants = dict(EVERYTHING, maybe=None, shape={"point": None}, outcome={"ok": 3}, perms=[], initial="x")
    assert inst.invoke("echo", [variants]) == dict(variants, initial=ord("x"))
    # An absent option field is none, as in Golem's JSON.
    missing = {k: v for k, v in EVERYTHING.items() if k != "maybe"}
    assert inst.invoke("echo", [missing])["maybe"] is None


@pytest.mark.parametrize(
    "change, message",
    [
        ({"count": -1}, r"argument 1 \(value\) at \.count: expected u64 \(0\.\.18446744073709551615\), got number -1"),
        ({"count": "5"}, r"at \.count: expected u64, got string '5'"),
        ({"bytes": [1, 256]}, r"at \.bytes\[1\]: expected u8 \(0\.\.255\), got number 256"),
        ({"color": "mauve"}, r"at \.color: expected enum \{red, green, blue\}, got string 'mauve'"),
        ({"shape": {"hexagon": 1}}, r"at \.shape: expected variant \{circle\(f64\), square\(u32\), point\}"),
        ({"outcome": {"maybe": 1}}, r"at \.outcome: expected result<u8, string>"),
        ({"pair": ["x"]}, r"at \.pair: expected tuple<string, bool> \(an array of 2\), got array of 1"),
        ({"perms": ["fly"]}, r"at \.perms: expected flags \{read, write, exec\}"),
        ({"initial": "ab"}, r"at \.initial: expected char"),
        ({"extra": 1}, r"argument 1 \(value\): expected record .*, got unknown field 'extra'"),
    ],
)
def test_ill_typed_arguments_name_the_parameter_and_type(probe_wasm: Path, host: Host, change: Dict[str, Any], message: str) -> None:
    inst = _runner(probe_wasm, host).instance("typed")
    with pytest.raises(InvalidArguments, match=message):
        inst.invoke("echo", [dict(EVERYTHING, **change)])
    # Nothing ran: the worker has its creation entry only.
    assert _kinds(host, inst.worker.worker_id) == ["create"]


def test_wrong_argument_count(probe_wasm: Path, host: Host) -> None:
    inst = _runner(probe_wasm, host).instance("count")
    with pytest.raises(InvalidArguments, match=r"expected 1 argument\(s\) \(value: record .*\), got 0"):
        inst.invoke("echo", [])


# -------------------------------------------------------------------------------- failures


def test_an_unimplemented_import_traps_with_its_name(probe_wasm: Path, host: Host) -> None:
    runner = _runner(probe_wasm, host)
    inst = runner.instance("unimplemented")
    with pytest.raises(UnimplementedImport) as info:
        inst.invoke("golem:it/probe.{idempotency-key}")
    assert info.value.function == "golem:api/host@1.1.7#generate-idempotency-key"
    assert "golem-promise does not implement" in str(info.value)
    # The trapped instance is replaced: the next call works.
    index = inst.invoke("oplog-index")
    assert [e.kind for e in host.oplog(inst.worker.worker_id)][index - 1] == "get-oplog-index"


def test_a_python_exception_in_the_component_is_a_trap_with_its_message(probe_wasm: Path, host: Host) -> None:
    inst = _runner(probe_wasm, host).instance("raiser")
    with pytest.raises(ComponentTrap) as info:
        inst.invoke("golem:it/probe.{fail}", ["the ledger is closed: ünïcode"])
    assert info.value.component_message == "ValueError: the ledger is closed: ünïcode"
    assert "ValueError: the ledger is closed" in str(info.value)
    assert not isinstance(info.value, UnimplementedImport)


def test_unknown_exports_list_what_there_is(probe_wasm: Path, host: Host) -> None:
    runner = _runner(probe_wasm, host)
    with pytest.raises(ExportNotFound) as info:
        runner.invoke("golem:it/probe.{nope}")
    assert "golem:it/probe.{echo}" in info.value.available
    assert "golem:it/probe.{echo}" in str(info.value)
    with pytest.raises(ExportNotFound):
        runner.invoke("golem:it/other.{echo}")


def test_bad_component_files(tmp_path: Path, probe_wasm: Path) -> None:
    cases = {
        "missing.wasm": None,
        "text.wasm": b"hello, not wasm",
        "module.wasm": b"\0asm\x01\x00\x00\x00",
        "truncated.wasm": probe_wasm.read_bytes()[:50_000],
        "garbage.wasm": b"\0asm\x0d\x00\x01\x00" + os.urandom(4096),
        "empty.wasm": b"",
        "bad.wat": b"(component (import \"x\" (func)) oops",
    }
    messages = {}
    for name, data in cases.items():
        path = tmp_path / name
        if data is not None:
            path.write_bytes(data)
        with pytest.raises(InvalidComponent) as info:
            load_component(path, cache_dir=tmp_path / "cache")
        messages[name] = str(info.value)
        assert "\n" not in messages[name]
    assert "cannot read component" in messages["missing.wasm"]
    assert "core WebAssembly module, not a component" in messages["module.wasm"]
    assert "not a valid component" in messages["truncated.wasm"]


# ------------------------------------------------------------------ versions and toolchains


def test_golem_1_1_5_component_links_by_its_own_version(host: Host) -> None:
    path = build("promise-1.1.5")
    runner = _runner(path, host)
    assert runner.component.golem_host_versions == ["golem:api/host@1.1.5"]
    assert set(runner.component.exports) == {"golem:it/api.{create}", "golem:it/api.{await}", "golem:it/api.{poll}"}
    record = runner.invoke("golem:it/api.{create}", worker="golem-style")
    assert runner.invoke("golem:it/api.{poll}", [record], worker="golem-style") is None
    run = runner.start("golem:it/api.{await}", [record], worker="golem-style")
    pid = run.awaited_promise()
    assert pid.oplog_idx == record["oplog-idx"]
    assert host.oplog(pid.worker_id)[pid.oplog_idx - 1].kind == "create-promise"
    assert host.complete_promise(pid, b"done") is True
    assert run.result() == list(b"done")


def test_a_component_importing_one_function_of_1_1_0_links_just_that(host: Host) -> None:
    runner = _runner(OPLOG_INDEX_WAT, host)
    assert runner.component.imports == ["golem:api/host@1.1.0"]
    inst = runner.instance("wat")
    assert inst.unimplemented_imports == []
    # A text-format component calls no WASI: only the invocation records come between.
    assert inst.invoke("golem:it/api.{next-index}") == 3
    assert inst.invoke("next-index") == 6
    assert _kinds(host, inst.worker.worker_id) == ["create", "get-oplog-index", "get-oplog-index"]


def test_a_promise_function_with_another_signature_traps_instead_of_guessing(tmp_path: Path, host: Host) -> None:
    wat = tmp_path / "odd.wat"
    wat.write_text(
        '(component (import "golem:api/host@1.1.3" (instance $h (export "get-oplog-index" (func (result u32)))))'
        ' (core func $g (canon lower (func $h "get-oplog-index")))'
        ' (core module $m (import "h" "g" (func $g (result i32))) (func (export "f") (result i32) call $g))'
        ' (core instance $hi (export "g" (func $g)))'
        ' (core instance $i (instantiate $m (with "h" (instance $hi))))'
        ' (func $f (result u32) (canon lift (core func $i "f")))'
        ' (export "f" (func $f)))'
    )
    inst = _runner(wat, host).instance("odd")
    with pytest.raises(UnimplementedImport, match=r"signature func\(\) -> u32 differs from Golem's func\(\) -> u64"):
        inst.invoke("f")


# ----------------------------------------------------------------------------------- cache


def test_second_start_is_served_from_the_cache(probe_wasm: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    lines: List[str] = []
    first = load_component(probe_wasm, cache_dir=cache, progress=lines.append)
    assert not first.from_cache and first.compile_seconds > 0
    assert lines and lines[0].startswith("compiling ")
    assert [p.suffix for p in cache.iterdir()] == [".cwasm"]
    assert oct(cache.stat().st_mode & 0o777) == "0o700"
    lines.clear()
    start = time.monotonic()
    second = load_component(probe_wasm, cache_dir=cache, progress=lines.append)
    loaded = time.monotonic() - start
    assert second.from_cache and lines == []
    print(f"cached load: {loaded * 1000:.0f} ms (compile was {first.compile_seconds:.1f} s)")
    # A damaged cache file is compiled again and replaced, never trusted.
    entry = next(cache.iterdir())
    entry.write_bytes(b"not compiled code")
    third = load_component(probe_wasm, cache_dir=cache)
    assert not third.from_cache
    assert load_component(probe_wasm, cache_dir=cache).from_cache
    # cache=False neither reads nor writes.
    other = tmp_path / "unused"
    assert not load_component(probe_wasm, cache=False, cache_dir=other).from_cache
    assert not other.exists()


# ------------------------------------------------------------------------ the pytest fixture


@pytest.mark.golem_host(file=True)
def test_the_golem_component_fixture(golem_component: Any, golem_host: Host, approval_wasm: Path) -> None:
    runner = golem_component(approval_wasm, cache_dir=CACHE_DIR)
    run = runner.start("golem:it/api.{run-approval}", ["fixture"], worker="fixture-1")
    promise = run.awaited_promise()
    golem_host.complete_promise_json(promise, {"approved": True, "by": "fixture"})
    assert run.result() == {"ok": {"request": "fixture", "approved": True, "by": "fixture"}}
    assert _kinds(golem_host, run.worker_id)[-1] == "await-promise"
    assert [e.kind for e in golem_host.oplog(run.worker_id)][-1] == "exported-function-completed"


# ------------------------------------------------------------------------------------- CLI


def _cli_env(cache: Path) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOLEM_PROMISE_")}
    env["GOLEM_PROMISE_CACHE_DIR"] = str(cache)
    return env


def _exe() -> str:
    found = shutil.which("golem-promise", path=os.path.dirname(sys.executable))
    assert found is not None, "golem-promise is not installed next to this interpreter"
    return found


def _run(args: List[str], cwd: Path, cache: Path = CACHE_DIR, timeout: float = 120) -> "subprocess.CompletedProcess[str]":
    return subprocess.run([_exe(), *args], capture_output=True, text=True, cwd=cwd, env=_cli_env(cache), timeout=timeout)


WORKER = "c0c0c0c0-0000-4000-8000-000000000001/approval-cli"


def _start_run(component: Path, db: str, cwd: Path, export: str, *args: str) -> "subprocess.Popen[str]":
    """``golem-promise run`` of ``export`` as WORKER, in the background, output piped."""
    return subprocess.Popen(
        [_exe(), "run", str(component), "--db", db, "--worker", WORKER, "--invoke", export, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=_cli_env(CACHE_DIR),
    )


def test_cli_run_completed_over_http_by_another_process(approval_wasm: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = _start_run(approval_wasm, db, tmp_path, "golem:it/api.{run-approval}", '"order-9"')
    server = None
    try:
        assert runner.stdout is not None
        line = runner.stdout.readline()
        assert "awaits promise" in line, line + (runner.stderr.read() if runner.stderr else "")
        pid = PromiseId.parse(line.rsplit(" ", 1)[1].strip())
        assert str(pid.worker_id) == WORKER
        server = subprocess.Popen([_exe(), "serve", "--db", db], stdout=subprocess.PIPE, text=True, cwd=tmp_path, env=_cli_env(CACHE_DIR))
        assert server.stdout is not None
        url = server.stdout.readline().strip()
        r = complete(url, pid, b'{"approved": true, "by": "webhook"}')
        assert r.status == 200 and r.json() is True
        out, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
    assert runner.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"ok": {"request": "order-9", "approved": True, "by": "webhook"}}
    with Host(db) as h:
        assert _kinds(h, WorkerId.parse(WORKER)) == ["create", "create-promise", "await-promise"]


def test_cli_run_completed_by_the_complete_command(approval_wasm: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    runner = _start_run(approval_wasm, db, tmp_path, "run-approval", '"x"')
    try:
        assert runner.stdout is not None
        pid = runner.stdout.readline().rsplit(" ", 1)[1].strip()
        done = _run(["complete", "--db", db, pid, "--json", '{"approved": false, "by": "cli"}'], tmp_path)
        assert done.returncode == 0 and done.stdout.strip() == "true"
        out, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 0, err
    assert json.loads(out.splitlines()[-1]) == {"ok": {"request": "x", "approved": False, "by": "cli"}}


def test_cli_errors_are_one_line_with_documented_codes(probe_wasm: Path, tmp_path: Path) -> None:
    db = ["--db", str(tmp_path / "e.db")]
    base = ["run", str(probe_wasm), *db, "--worker", WORKER]
    (tmp_path / "bad.wasm").write_bytes(b"\0asm\x01\x00\x00\x00")
    cases = [
        (["run", str(tmp_path / "missing.wasm"), *db, "--worker", WORKER, "--invoke", "x"], 5, "cannot read component"),
        (["run", str(tmp_path / "bad.wasm"), *db, "--worker", WORKER, "--invoke", "x"], 5, "not a component"),
        ([*base, "--invoke", "golem:it/probe.{nope}"], 6, "exports no function 'golem:it/probe.{nope}'"),
        ([*base, "--invoke", "wait", '{"oplog-idx": 1}'], 6, "argument 1 (promise): expected record"),
        ([*base, "--invoke", "wait", "not json"], 6, "argument 1 is not valid JSON"),
        ([*base, "--invoke", "golem:it/probe.{idempotency-key}"], 7, "golem:api/host@1.1.7#generate-idempotency-key"),
        ([*base, "--invoke", "golem:it/probe.{fail}", '"bad input"'], 7, "ValueError: bad input"),
        (["run", str(probe_wasm), *db, "--worker", "nope", "--invoke", "echo"], 1, "worker id"),
    ]
    for args, code, text in cases:
        r = _run(args, tmp_path)
        assert r.returncode == code, (args, r.stderr)
        error_lines = [ln for ln in r.stderr.splitlines() if ln.startswith("golem-promise run: error:")]
        assert len(error_lines) == 1 and text in error_lines[0], r.stderr
        # No traceback of ours; the failing component's own (on its stderr) is passed through.
        own_output = r.stderr.split("golem-promise run: error:")[0]
        assert "Traceback" not in own_output or "{fail}" in args[-2], r.stderr


def test_cli_lists_exports_and_prints_results_as_json(probe_wasm: Path, tmp_path: Path) -> None:
    listed = _run(["run", str(probe_wasm), "--list-exports"], tmp_path)
    assert listed.returncode == 0
    exports = dict(line.split("\t") for line in listed.stdout.splitlines())
    assert exports["golem:it/probe.{oplog-index}"] == "func() -> u64"
    r = _run(["run", str(probe_wasm), "--db", str(tmp_path / "j.db"), "--worker", WORKER, "--invoke", "echo", json.dumps(EVERYTHING)], tmp_path)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == EVERYTHING


def test_cli_first_start_compiles_with_progress_then_uses_the_cache(probe_wasm: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    args = ["run", str(probe_wasm), "--db", str(tmp_path / "c.db"), "--worker", WORKER, "--invoke", "oplog-index"]
    first = _run(args, tmp_path, cache=cache)
    assert first.returncode == 0, first.stderr
    assert "golem-promise run: compiling " in first.stderr and "compiled " in first.stderr
    second = _run(args, tmp_path, cache=cache)
    assert second.returncode == 0 and "compiling" not in second.stderr
    # The second run replays the first invocation (answered from the oplog), then runs its own:
    # a later oplog index.
    assert json.loads(second.stdout) > json.loads(first.stdout)
    third = _run([*args, "--no-cache"], tmp_path, cache=cache)
    assert third.returncode == 0 and "compiling" in third.stderr


def test_the_example_runs(approval_wasm: Path, tmp_path: Path) -> None:
    script = ROOT / "examples" / "components" / "approval.sh"
    env = _cli_env(CACHE_DIR)
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    env["GOLEM_PROMISE_DB"] = str(tmp_path / "example.db")
    r = subprocess.run(["bash", str(script)], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    assert '{"ok": {"request": "expense-42", "approved": true, "by": "ana"}}' in r.stdout


def test_cli_run_interrupted_while_awaiting_exits_130_in_one_line(approval_wasm: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "int.db")
    runner = _start_run(approval_wasm, db, tmp_path, "run-approval", '"x"')
    try:
        assert runner.stdout is not None
        assert "awaits promise" in runner.stdout.readline()
        runner.send_signal(signal.SIGINT)
        _, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
    assert runner.returncode == 130, err
    assert err.strip().splitlines() == ["golem-promise run: error: interrupted"]
    # The promise stays pending and the worker's oplog has no finished await, nor a result: the
    # next run resumes the invocation.
    with Host(db) as h:
        assert [p.state for p in h.list_promises(WorkerId.parse(WORKER))] == ["pending"]
        assert _kinds(h, WorkerId.parse(WORKER)) == ["create", "create-promise"]
        assert [k for k, _ in _invocations(h, WorkerId.parse(WORKER))] == ["exported-function-invoked"]
