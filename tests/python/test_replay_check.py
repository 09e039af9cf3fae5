"""golem_promise.testing.check_replay and its pytest fixture."""

from __future__ import annotations

import itertools
import random
import time
from pathlib import Path
from typing import Dict, Iterator, Tuple

import pytest

import golem_promise as gp
from golem_promise import Host, PromiseId, Worker, testing
from golem_promise.testing import ReplayChecker, check_replay_fixture  # noqa: F401 (the fixture)


def approve(host: Host, promise_id: PromiseId) -> None:
    """The outside world: answers every awaited promise."""
    host.complete_promise_json(promise_id, {"approved": True, "idx": promise_id.oplog_idx})


def approval_flow(worker: Worker) -> Tuple[PromiseId, object, int]:
    """A deterministic worker: create, await (completed from outside), record, poll."""
    promise_id = worker.create_promise()
    decision = worker.await_promise_json(promise_id)
    receipt = worker.create_promise()
    worker.complete_promise(receipt, b"done")
    assert worker.poll_promise(receipt) == b"done"
    return promise_id, decision, worker.get_oplog_index()


def test_a_deterministic_worker_passes() -> None:
    report = testing.check_replay(approval_flow, complete_with=approve)
    assert report.ok and bool(report)
    assert report.divergence is None
    assert report.calls == 6
    assert report.runs == 2
    assert isinstance(report.result, tuple)
    assert report.result[1:] == ({"approved": True, "idx": 2}, 7)


def test_a_deterministic_worker_survives_a_crash_after_each_call() -> None:
    report = testing.check_replay(approval_flow, complete_with=approve, crash_after_each_call=True)
    assert report.ok, report.divergence
    assert report.runs == 2 + 2 * report.calls


def test_a_function_without_arguments_uses_the_current_worker(tmp_path: Path) -> None:
    def flow() -> bytes:
        promise_id = gp.create_promise()
        gp.complete_promise(promise_id, str(promise_id).encode())
        return gp.await_promise(promise_id)

    with Host(tmp_path / "check.db", synchronous="normal") as host:
        report = testing.check_replay(flow, host=host, crash_after_each_call=True)
        assert report.ok, report.divergence
        # The crash runs' workers have other names: their results are compared as if renamed.
        assert isinstance(report.result, bytes) and report.result.endswith(b"-live/2")
        live = PromiseId.parse(report.result.decode()).worker_id
        assert [e.kind for e in host.oplog(live)] == ["create", "create-promise", "complete-promise",
                                                      "await-promise"]


def test_the_function_may_complete_from_outside_itself() -> None:
    def flow(worker: Worker) -> bytes:
        promise_id = worker.create_promise()
        worker.host.complete_promise(promise_id, b"self-served")  # host-level: not recorded
        return worker.await_promise(promise_id)

    assert testing.check_replay(flow, crash_after_each_call=True).ok


def test_an_async_worker_function_is_run_with_asyncio() -> None:
    async def flow(worker: Worker) -> bytes:
        promise_id = worker.create_promise()
        return await gp.await_promise_async(promise_id)

    report = testing.check_replay(flow, complete_with=lambda h, p: h.complete_promise(p, b"async"),
                                  crash_after_each_call=True)
    assert report.ok, report.divergence
    assert report.result == b"async"


def test_a_payload_taken_from_the_clock_is_a_divergence() -> None:
    def stamped(worker: Worker) -> None:
        promise_id = worker.create_promise()
        worker.complete_promise(promise_id, str(time.time_ns()).encode())

    report = testing.check_replay(stamped)
    assert not report.ok
    assert report.crash_after is None
    assert report.oplog_idx == 3
    assert isinstance(report.error, gp.NonDeterminismError)
    assert report.divergence is not None
    assert report.divergence.startswith("replay after the live run: non-deterministic replay of worker ")
    assert " at oplog index 3: recorded complete-promise(" in report.divergence


def test_branching_on_random_is_a_divergence() -> None:
    coin: Iterator[bool] = itertools.cycle([True, False])  # a random source that surely differs

    def branchy(worker: Worker) -> str:
        promise_id = worker.create_promise()
        if next(coin):
            worker.get_oplog_index()
        worker.delete_promise(promise_id)
        return "ok"

    report = testing.check_replay(branchy)
    assert not report.ok
    assert report.oplog_idx == 3
    assert report.error is not None
    assert report.error.recorded == "get-oplog-index()"
    assert report.error.attempted is not None and report.error.attempted.startswith("delete-promise(")


def test_real_randomness_is_caught_by_repeated_checks() -> None:
    def dice(worker: Worker) -> int:
        promise_id = worker.create_promise()
        roll = random.randrange(1_000_000)
        worker.complete_promise(promise_id, roll.to_bytes(4, "big"))
        return roll

    assert not testing.check_replay(dice).ok  # different payload (1 in a million to miss it)


def test_a_different_return_value_is_a_divergence() -> None:
    runs = itertools.count()

    def counting(worker: Worker) -> int:
        worker.create_promise()
        return next(runs)

    report = testing.check_replay(counting)
    assert not report.ok
    assert report.error is None
    assert report.divergence == "replay after the live run: the function returned 1, the live run returned 0"


def test_fewer_and_extra_calls_on_replay_are_divergences() -> None:
    seen: Dict[str, int] = {"fewer": 0, "extra": 0}

    def fewer(worker: Worker) -> None:
        seen["fewer"] += 1
        worker.create_promise()
        if seen["fewer"] == 1:
            worker.get_oplog_index()

    def extra(worker: Worker) -> None:
        seen["extra"] += 1
        worker.create_promise()
        if seen["extra"] == 2:
            worker.get_oplog_index()

    report = testing.check_replay(fewer)
    assert not report.ok and report.divergence is not None
    assert "made 1 host call and returned, but the oplog records 2" in report.divergence
    assert "replay stopped at oplog index 2 (next recorded: get-oplog-index)" in report.divergence
    report = testing.check_replay(extra)
    assert not report.ok and report.divergence is not None
    assert "made 2 host calls, the live run 1: extra call get-oplog-index" in report.divergence


def test_state_that_a_crash_leaves_behind_is_found_by_the_crash_runs() -> None:
    busy = {"flag": False}

    def with_cleanup(worker: Worker) -> str:
        first_attempt = not busy["flag"]
        busy["flag"] = True
        worker.create_promise()
        if first_attempt:  # after a crash the flag was never reset: this call is skipped
            worker.get_oplog_index()
        busy["flag"] = False
        return "ok"

    assert testing.check_replay(with_cleanup).ok  # a plain replay cannot see it
    report = testing.check_replay(with_cleanup, crash_after_each_call=True)
    assert not report.ok
    assert report.crash_after == 1
    assert report.divergence is not None
    assert report.divergence.startswith("replay after a crash after call 1 of 2: ")


def test_a_worker_name_with_recorded_calls_is_refused(host: Host) -> None:
    host.worker(testing._COMPONENT, "taken-live").create_promise()
    with pytest.raises(ValueError, match="already has recorded calls"):
        testing.check_replay(lambda: None, host=host, worker_name="taken")


def test_the_fixture_passes_a_replay_safe_function(check_replay: ReplayChecker) -> None:
    report = check_replay(approval_flow, complete_with=approve, crash_after_each_call=True)
    assert report.calls == 6


def test_the_fixture_fails_the_test_on_a_divergence(check_replay: ReplayChecker) -> None:
    def stamped(worker: Worker) -> None:
        worker.complete_promise(worker.create_promise(), str(time.time_ns()).encode())

    with pytest.raises(AssertionError, match="not replay-safe: replay after the live run: "):
        check_replay(stamped)
