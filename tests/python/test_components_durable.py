"""Durable invocations (issue 23): a component's invocation survives a crash of its process.

Its start, its host calls, the WASI calls whose answers vary (random bytes, the wall clock,
the environment) and its output are recorded in the worker's oplog; running the worker again
replays them (answered from the oplog, nothing printed twice) and continues where the oplog
ends, as Golem's executor does.  Every test runs on a file host; the crash tests kill real
processes with SIGKILL.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest

from component_builds import CACHE_DIR, OPLOG_INDEX_WAT
from golem_promise import Host, NonDeterminismError, PromiseId, WorkerId
from golem_promise.cli import EXIT_BUSY, EXIT_NONDETERMINISM
from golem_promise.components import WorkerBusy, load_component, recorded_invocations

WORKER = "d0d0d0d0-0000-4000-8000-000000000023/durable"


def _exe() -> str:
    return os.path.join(os.path.dirname(sys.executable), "golem-promise")


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env["GOLEM_PROMISE_CACHE_DIR"] = str(CACHE_DIR)
    return env


def _run_cli(component: Path, db: str, export: str, *args: str, key: Optional[str] = None) -> "subprocess.Popen[str]":
    cmd = [_exe(), "run", str(component), "--db", db, "--worker", WORKER, "--invoke", export, *args]
    if key is not None:
        cmd += ["--idempotency-key", key]
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())


def _kinds(h: Host, worker: WorkerId) -> List[str]:
    return [e.kind for e in h.oplog(worker)]


def test_killed_while_awaiting_a_new_process_resumes_with_the_same_promise(approval_wasm: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "crash.db")
    first = _run_cli(approval_wasm, db, "golem:it/api.{run-approval}", '"order-1"')
    try:
        assert first.stdout is not None
        line = first.stdout.readline()
        assert "awaits promise" in line, line + (first.stderr.read() if first.stderr else "")
        promise = PromiseId.parse(line.rsplit(" ", 1)[1].strip())
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == -signal.SIGKILL
    worker = WorkerId.parse(WORKER)
    with Host(db) as h:
        [cut] = recorded_invocations(h, worker)
        assert (cut.export, cut.args, cut.outcome) == ("golem:it/api.{run-approval}", ["order-1"], None)

    # The same command again: it replays the oplog and waits on the same promise.
    second = _run_cli(approval_wasm, db, "golem:it/api.{run-approval}", '"order-1"')
    try:
        with Host(db) as h:
            # Completed while the new process replays or waits: either way it is the promise
            # the killed one created.
            assert h.complete_promise(promise, b'{"approved": true, "by": "after-the-crash"}') is True
        out, err = second.communicate(timeout=120)
    finally:
        if second.poll() is None:
            second.kill()
    assert second.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == {"ok": {"request": "order-1", "approved": True, "by": "after-the-crash"}}
    assert "awaits promise" not in out  # printed once, by the first process
    oplog = subprocess.run([_exe(), "oplog", WORKER, "--db", db], capture_output=True, text=True, env=_env(), timeout=60)
    assert oplog.returncode == 0, oplog.stderr
    rows = [json.loads(line) for line in oplog.stdout.splitlines()]
    assert rows[1]["kind"] == "exported-function-invoked" and rows[1]["function"] == "golem:it/api.{run-approval}"
    assert "function" not in rows[0]
    with Host(db) as h:
        kinds = _kinds(h, worker)
        assert kinds.count("create-promise") == 1  # not created again
        assert [e.promise_id for e in h.oplog(worker) if e.kind == "create-promise"] == [promise]
        assert kinds.count("exported-function-invoked") == 1 and kinds[-1] == "exported-function-completed"
        [done] = recorded_invocations(h, worker)
        assert done.outcome is not None and json.loads(done.outcome)["ok"]["ok"]["by"] == "after-the-crash"


def test_a_completed_invocation_is_not_run_again_for_its_idempotency_key(probe_wasm: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "once.db")
    first = _run_cli(probe_wasm, db, "oplog-index", key="charge-42")
    out1, err1 = first.communicate(timeout=120)
    assert first.returncode == 0, err1
    worker = WorkerId.parse(WORKER)
    with Host(db) as h:
        length = len(h.oplog(worker))
    again = _run_cli(probe_wasm, db, "oplog-index", key="charge-42")
    out2, err2 = again.communicate(timeout=120)
    assert again.returncode == 0, err2
    assert json.loads(out2) == json.loads(out1)  # the recorded result
    with Host(db) as h:
        assert len(h.oplog(worker)) == length  # nothing ran, nothing was written
    other = _run_cli(probe_wasm, db, "oplog-index", key="charge-43")
    out3, err3 = other.communicate(timeout=120)
    assert other.returncode == 0, err3
    assert json.loads(out3) > json.loads(out1)  # a new key runs


@pytest.mark.golem_host(file=True)
def test_restart_resumes_with_the_same_random_draw_and_clock_reading(golem_component: Any, golem_host: Host, probe_wasm: Path) -> None:
    runner = golem_component(probe_wasm, cache_dir=CACHE_DIR)
    run = runner.start("golem:it/probe.{entropy-wait}", worker="dice")
    promise = run.awaited_promise()
    said = run.stdout.decode()
    assert said.startswith("entropy ") and said.strip().endswith(f"awaits {promise.oplog_idx}")
    time.sleep(0.01)  # a live clock would read later now
    resumed = runner.restart(run)
    assert resumed.awaited_promise() == promise
    assert golem_host.complete_promise(promise, b"ok") is True
    draw, now, payload = resumed.result()
    assert said.split()[1:3] == [str(draw), str(now)]  # replayed, not drawn or read again
    assert bytes(payload) == b"ok"
    assert resumed.stdout == b""  # nothing printed twice
    kinds = _kinds(golem_host, run.worker_id)
    functions = [e.function for e in golem_host.oplog(run.worker_id) if e.kind == "imported-function-invoked"]
    assert "wall_clock::now" in functions and "golem random::get_random_bytes" in functions
    assert "golem_environment::get_environment" in functions and "wasi:cli/stdout#write" in functions
    assert kinds.count("create-promise") == 1 and kinds[-1] == "exported-function-completed"


@pytest.mark.golem_host(file=True)
def test_monotonic_clock_and_its_timers_are_recorded_and_replayed(golem_component: Any, golem_host: Host, probe_wasm: Path) -> None:
    # componentize-py components import monotonic-clock with its subscribe functions (Python's
    # sleep uses them): the readings are recorded, the live sleep really waits on the clock the
    # component reads, and a replay gives the recorded readings back.
    runner = golem_component(probe_wasm, cache_dir=CACHE_DIR)
    run = runner.start("golem:it/probe.{monotonic-wait}", [200], worker="ticker")
    promise = run.awaited_promise()
    said = run.stdout.decode().split()
    assert said[0] == "monotonic" and said[-1] == str(promise.oplog_idx)
    before, after = int(said[1]), int(said[2])
    assert after - before >= 200_000_000  # the timer waited on the component's own clock
    resumed = runner.restart(run)
    assert resumed.awaited_promise() == promise
    assert golem_host.complete_promise(promise, b"tick") is True
    r_before, r_after, payload = resumed.result()
    assert (r_before, r_after) == (before, after)  # replayed, not read again
    assert bytes(payload) == b"tick" and resumed.stdout == b""
    functions = [e.function for e in golem_host.oplog(run.worker_id) if e.kind == "imported-function-invoked"]
    assert functions.count("monotonic_clock::now") >= 2


def _variant(tmp_path: Path, calls: int) -> Path:
    """The oplog-index text component, calling get-oplog-index ``calls`` times per invocation."""
    text = OPLOG_INDEX_WAT.read_text(encoding="utf-8")
    body = " drop ".join(["call $g"] * calls)
    assert "(result i64) call $g)" in text
    changed = text.replace("(result i64) call $g)", f"(result i64) {body})")
    out = tmp_path / f"oplog-index-x{calls}.wat"
    out.write_text(changed, encoding="utf-8")
    return out


def test_a_component_changed_after_a_restart_raises_non_determinism_naming_both_calls(tmp_path: Path) -> None:
    db = str(tmp_path / "changed.db")
    once = load_component(_variant(tmp_path, 1), cache_dir=CACHE_DIR)
    twice = load_component(_variant(tmp_path, 2), cache_dir=CACHE_DIR)
    with Host(db) as h:
        w = h.worker(once.component_id, "changing")
        with once.instantiate(w) as inst:
            assert inst.invoke("next-index") == 3
        w.close()
        w = h.worker(once.component_id, "changing")  # a restart, with the changed component
        with twice.instantiate(w) as inst:
            with pytest.raises(NonDeterminismError) as info:
                inst.invoke("next-index")
            err = info.value
            assert err.oplog_idx == 4
            assert err.recorded is not None and err.recorded.startswith("exported-function-completed(golem:it/api.{next-index}")
            assert err.attempted == "get-oplog-index()"
            # It sticks: the instance does not run on past a divergence.
            with pytest.raises(NonDeterminismError):
                inst.invoke("next-index")
        assert len(h.oplog(w.worker_id)) == 4  # nothing written
    # The CLI says it in one line, with its exit code.
    r = subprocess.run(
        [_exe(), "run", str(_variant(tmp_path, 2)), "--db", db, "--worker", f"{once.component_id}/changing", "--invoke", "next-index"],
        capture_output=True, text=True, env=_env(), timeout=120,
    )
    assert r.returncode == EXIT_NONDETERMINISM, r.stderr
    [line] = r.stderr.strip().splitlines()
    assert "recorded exported-function-completed(golem:it/api.{next-index}" in line and "attempted get-oplog-index()" in line


def test_two_runners_of_one_worker_the_second_gets_a_clear_error(approval_wasm: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "busy.db")
    first = _run_cli(approval_wasm, db, "golem:it/api.{run-approval}", '"one"')
    try:
        assert first.stdout is not None
        line = first.stdout.readline()
        assert "awaits promise" in line
        second = _run_cli(approval_wasm, db, "golem:it/api.{run-approval}", '"two"')
        _, err = second.communicate(timeout=120)
        assert second.returncode == EXIT_BUSY
        [msg] = err.strip().splitlines()
        assert f"worker {WORKER} is already running in process {first.pid}" in msg
        # In one process too: a second instance of the worker is refused.
        component = load_component(approval_wasm, cache_dir=CACHE_DIR)
        with Host(db) as h:
            with pytest.raises(WorkerBusy):
                component.instantiate(h.worker(WorkerId.parse(WORKER).component_id, "durable"))
    finally:
        first.kill()
        first.wait(timeout=30)
    # Once the first is gone (killed: the kernel drops its lock), the worker runs again.
    with Host(db) as h:
        promise = next(e.promise_id for e in h.oplog(WorkerId.parse(WORKER)) if e.kind == "create-promise")
        assert promise is not None
        h.complete_promise(promise, b'{"approved": false}')
    third = _run_cli(approval_wasm, db, "golem:it/api.{run-approval}", '"one"')
    out, err = third.communicate(timeout=120)
    assert third.returncode == 0, err
    assert json.loads(out) == {"ok": {"request": "one", "approved": False, "by": None}}


def test_an_idempotency_key_is_answered_from_the_oplog_on_a_live_worker_too(tmp_path: Path) -> None:
    component = load_component(OPLOG_INDEX_WAT, cache_dir=CACHE_DIR)
    with Host(str(tmp_path / "live.db")) as h:
        w = h.worker(component.component_id, "live-keys", live=True)
        with component.instantiate(w) as inst:
            first = inst.invoke("next-index", idempotency_key="k")
            assert inst.invoke("next-index", idempotency_key="k") == first
        length = len(h.oplog(w.worker_id))
        w.close()
        w = h.worker(component.component_id, "live-keys", live=True)  # not replayed
        with component.instantiate(w) as inst:
            assert inst.invoke("next-index", idempotency_key="k") == first
            assert len(h.oplog(w.worker_id)) == length
            assert inst.invoke("next-index") > first


def test_clock_readings_are_replayed_for_a_component_that_reads_both_clocks(tmp_path: Path) -> None:
    component = load_component(OPLOG_INDEX_WAT.parent / "clocks-0.2.9.wat", cache_dir=CACHE_DIR)
    with Host(str(tmp_path / "clocks.db")) as h:
        w = h.worker(component.component_id, "clocks")
        with component.instantiate(w) as inst:
            first = inst.invoke("clocks")
        functions = [e.function for e in h.oplog(w.worker_id) if e.kind == "imported-function-invoked"]
        assert functions == ["wall_clock::now", "monotonic_clock::now"]
        w.close()
        time.sleep(0.01)
        w = h.worker(component.component_id, "clocks")  # a restart
        with component.instantiate(w) as inst:
            # Replaying the first invocation compares its result with the recorded one: live
            # clocks would read later and raise NonDeterminismError here.
            assert inst.resume() is None
            second = inst.invoke("clocks")
        [done, _] = recorded_invocations(h, w.worker_id)
        assert done.outcome is not None and json.loads(done.outcome) == {"ok": first}
        assert second[0] * 10**9 + second[1] > first[0] * 10**9 + first[1] and second[2] > first[2]
