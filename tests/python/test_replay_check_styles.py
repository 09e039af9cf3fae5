"""check_replay sees every way worker code waits: blocking awaits, golem_promise.aio, and promise
handles (get, subscribe().ready(), .block(), aio.wait_ready) are counted, completed through
complete_with, bounded by await_timeout and crashed after, like the worker's other calls."""

from __future__ import annotations

import inspect
import itertools
import json
import threading
from typing import Any, Awaitable, Callable, Dict, Iterator, List, Optional, Tuple, Union

import pytest

import golem_promise as gp
from golem_promise import Host, PromiseId, Worker, aio, testing
from golem_promise.testing import ReplayChecker, ReplayReport, check_replay_fixture  # noqa: F401

PAYLOAD = b'"approved"'  # JSON, so the JSON await reads it too

Waited = Union[Optional[bytes], Awaitable[Optional[bytes]]]


def _blocking(pid: PromiseId) -> Waited:
    return gp.await_promise(pid)


def _blocking_json(pid: PromiseId) -> Waited:
    return json.dumps(gp.await_promise_json(pid)).encode()


def _aio(pid: PromiseId) -> Waited:
    return aio.await_promise(pid)


async def _aio_json(pid: PromiseId) -> Optional[bytes]:
    return json.dumps(await aio.await_promise_json(pid)).encode()


def _worker_async(pid: PromiseId) -> Waited:
    return gp.current_worker().await_promise_async(pid)


def _handle_block(pid: PromiseId) -> Waited:
    result = gp.get_promise(pid)
    result.subscribe().block(timeout=20)  # a timeout of its own: check_replay must still complete it
    return result.get()


def _handle_ready(pid: PromiseId) -> Waited:
    result = gp.get_promise(pid)
    pollable = result.subscribe()
    if not pollable.ready():
        pollable.block()
    return result.get()


async def _handle_wait_ready(pid: PromiseId) -> Optional[bytes]:
    result = gp.get_promise(pid)
    await aio.wait_ready(result.subscribe())
    return result.get()


#: Each way to wait for a promise, and the host calls it makes (the create before it included).
STYLES: Dict[str, Tuple[Callable[[PromiseId], Waited], List[str]]] = {
    "blocking": (_blocking, ["create", "await"]),
    "blocking-json": (_blocking_json, ["create", "await"]),
    "aio": (_aio, ["create", "await"]),
    "aio-json": (_aio_json, ["create", "await"]),
    "worker-async": (_worker_async, ["create", "await"]),
    "handle-block": (_handle_block, ["create", "block", "get"]),
    "handle-ready": (_handle_ready, ["create", "ready", "block", "get"]),
    "handle-wait-ready": (_handle_wait_ready, ["create", "wait_ready", "get"]),
}


async def _wait(style: str, pid: PromiseId) -> Optional[bytes]:
    waited = STYLES[style][0](pid)
    return await waited if inspect.isawaitable(waited) else waited


def approve(host: Host, promise_id: PromiseId) -> None:
    host.complete_promise(promise_id, PAYLOAD)


def _checked(fn: Callable[..., object], seconds: float = 60, **options: Any) -> ReplayReport:
    """check_replay(fn, **options) on a helper thread, failing (not hanging) after ``seconds``."""
    out: List[ReplayReport] = []
    thread = threading.Thread(target=lambda: out.append(testing.check_replay(fn, **options)), daemon=True)
    thread.start()
    thread.join(seconds)
    assert out, f"check_replay did not finish within {seconds} s"
    return out[0]


@pytest.fixture(params=sorted(STYLES))
def style(request: pytest.FixtureRequest) -> Iterator[str]:
    yield request.param


def test_each_style_is_completed_counted_and_replayed(style: str) -> None:
    async def flow() -> Optional[bytes]:
        return await _wait(style, gp.create_promise())

    report = _checked(flow, complete_with=approve)
    assert report.ok, report.divergence
    assert report.result == PAYLOAD
    assert report.calls == len(STYLES[style][1])
    assert report.live_error is None


def test_each_style_survives_a_crash_after_each_of_its_calls(style: str) -> None:
    async def flow() -> Optional[bytes]:
        return await _wait(style, gp.create_promise())

    report = _checked(flow, complete_with=approve, crash_after_each_call=True)
    assert report.ok, report.divergence
    assert report.calls == len(STYLES[style][1])
    assert report.runs == 2 + 2 * report.calls


def test_each_style_is_a_crash_point(style: str) -> None:
    """State left behind by a crash right after the wait is found, so the wait was crashed after."""
    state = {"waiting": False}

    async def flow() -> Optional[bytes]:
        if state["waiting"]:  # a previous run died in the wait: this run makes another call first
            gp.get_oplog_index()
        pid = gp.create_promise()
        gp.current_worker().host.complete_promise(pid, PAYLOAD)  # host-level: not recorded
        state["waiting"] = True
        value = await _wait(style, pid)
        state["waiting"] = False
        return value

    assert _checked(flow).ok  # the plain replay cannot see it
    report = _checked(flow, crash_after_each_call=True)
    assert not report.ok
    # Call 2 is the wait (the promise is completed already: 'handle-ready' needs no block()).
    calls = len(STYLES[style][1]) - (style == "handle-ready")
    assert (report.crash_after, report.calls) == (2, calls), report.divergence
    assert report.divergence is not None
    assert report.divergence.startswith(f"replay after a crash after call 2 of {calls}: ")


def test_each_style_reports_waiting_for_another_promise_on_replay(style: str) -> None:
    coin: Iterator[bool] = itertools.cycle([True, False])

    async def flow() -> Optional[bytes]:
        first, second = gp.create_promise(), gp.create_promise()
        value = None
        try:
            value = await _wait(style, first if next(coin) else second)
        except gp.NonDeterminismError:
            pass  # swallowed: check_replay must still report it
        return value

    report = _checked(flow, complete_with=approve)
    assert not report.ok
    assert isinstance(report.error, gp.NonDeterminismError), report.divergence
    assert report.oplog_idx == 4  # the await, or the handle's get (a poll)
    assert report.crash_after is None


@pytest.mark.parametrize("style", [s for s in sorted(STYLES) if s != "handle-block"])  # has its own
def test_each_style_gets_await_timeout_when_nobody_completes(style: str) -> None:
    async def flow() -> Optional[bytes]:
        return await _wait(style, gp.create_promise())

    report = _checked(flow, seconds=20, await_timeout=0.2)
    assert not report.ok and report.runs == 1
    assert isinstance(report.live_error, TimeoutError)
    assert report.divergence is not None
    assert report.divergence.startswith("the live run raised builtins.TimeoutError: ")
    assert "nothing was replayed" in report.divergence and "complete_with" in report.divergence


def test_a_live_run_that_raises_is_not_a_clean_ok() -> None:
    def failing(worker: Worker) -> None:
        worker.create_promise()
        raise ValueError("the order is malformed")

    report = testing.check_replay(failing, crash_after_each_call=True)
    assert not report.ok and report.runs == 1 and report.calls == 1
    assert isinstance(report.live_error, ValueError)
    assert report.result == "builtins.ValueError: the order is malformed"
    assert report.divergence == (
        "the live run raised builtins.ValueError: the order is malformed after 1 host call; nothing "
        "was replayed (pass raises=ValueError if the function is meant to raise it)"
    )
    # Meant to raise: the replays must raise the same.
    report = testing.check_replay(failing, crash_after_each_call=True, raises=ValueError)
    assert report.ok and report.runs == 4 and isinstance(report.live_error, ValueError)
    assert testing.check_replay(failing, raises=(KeyError, ValueError)).ok
    assert not testing.check_replay(failing, raises=KeyError).ok


def test_an_expected_error_must_be_raised_again_on_replay() -> None:
    runs = itertools.count()

    def sometimes(worker: Worker) -> None:
        worker.create_promise()
        if next(runs) == 0:
            raise ValueError("only the first time")

    report = testing.check_replay(sometimes, raises=ValueError)
    assert not report.ok and report.divergence is not None
    assert "the function returned None, the live run raised builtins.ValueError" in report.divergence


def test_the_fixture_fails_a_test_whose_worker_raised(check_replay: ReplayChecker) -> None:
    def failing() -> None:
        raise KeyError("oops")

    with pytest.raises(AssertionError, match="worker function could not be checked: the live run raised "):
        check_replay(failing)
