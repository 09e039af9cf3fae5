"""Blocking behaviour: awaits woken by other threads, timeouts, deletion, ownership, the GIL."""

from __future__ import annotations

import threading
import time
from typing import List

import pytest

from golem_promise import Host, PromiseNotFound, PromiseNotOwned, Worker


def _later(delay: float, fn: object, *args: object) -> threading.Thread:
    def run() -> None:
        time.sleep(delay)
        fn(*args)  # type: ignore[operator]

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_await_is_woken_by_a_completion_from_another_thread(worker: Worker, host: Host) -> None:
    pid = worker.create_promise()
    t = _later(0.2, host.complete_promise, pid, b"wake up")
    started = time.monotonic()
    assert worker.await_promise(pid, timeout=10) == b"wake up"
    elapsed = time.monotonic() - started
    t.join()
    assert 0.15 <= elapsed < 5


def test_await_without_timeout_is_woken_too(worker: Worker, other_worker: Worker) -> None:
    pid = worker.create_promise()
    t = _later(0.1, other_worker.complete_promise, pid, b"from bob")
    assert worker.await_promise(pid) == b"from bob"
    t.join()


@pytest.mark.parametrize("level", ["worker", "host"])
def test_await_timeout_raises_timeout_error(worker: Worker, host: Host, level: str) -> None:
    pid = worker.create_promise()
    awaiting = worker.await_promise if level == "worker" else host.await_promise
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        awaiting(pid, timeout=0.3)
    elapsed = time.monotonic() - started
    assert 0.29 <= elapsed < 3
    # A timeout leaves the promise pending and usable.
    assert host.complete_promise(pid, b"late") is True
    assert awaiting(pid, timeout=0) == b"late"


def test_zero_timeout_checks_once(worker: Worker) -> None:
    pid = worker.create_promise()
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        worker.await_promise(pid, timeout=0)
    assert time.monotonic() - started < 1


def test_negative_timeout_is_rejected(worker: Worker) -> None:
    pid = worker.create_promise()
    with pytest.raises(ValueError):
        worker.await_promise(pid, timeout=-1)


@pytest.mark.parametrize("level", ["worker", "host"])
@pytest.mark.parametrize("timeout", [True, False, "1", b"1", [1]])
def test_a_timeout_that_is_not_a_number_of_seconds_is_a_type_error(
    worker: Worker, host: Host, level: str, timeout: object
) -> None:
    pid = worker.create_promise()
    awaiting = worker.await_promise if level == "worker" else host.await_promise
    started = time.monotonic()
    with pytest.raises(TypeError, match="timeout must be a number of seconds"):
        awaiting(pid, timeout=timeout)  # type: ignore[arg-type]
    assert time.monotonic() - started < 0.5  # refused, not waited on (True once waited 1 s)


@pytest.mark.parametrize("level", ["worker", "host"])
def test_deletion_while_awaiting_raises_promise_not_found(worker: Worker, host: Host, level: str) -> None:
    pid = worker.create_promise()
    awaiting = worker.await_promise if level == "worker" else host.await_promise
    t = _later(0.2, host.delete_promise, pid)
    started = time.monotonic()
    with pytest.raises(PromiseNotFound):
        awaiting(pid, timeout=10)
    assert time.monotonic() - started < 5
    t.join()


def test_worker_await_of_another_workers_promise_raises_not_owned(
    worker: Worker, other_worker: Worker, host: Host
) -> None:
    pid = worker.create_promise()
    with pytest.raises(PromiseNotOwned) as info:
        other_worker.await_promise(pid, timeout=1)
    assert info.value.code == -8
    # ... even once completed; while the owner and the host may await it.
    host.complete_promise(pid, b"mine")
    with pytest.raises(PromiseNotOwned):
        other_worker.await_promise(pid, timeout=1)
    assert worker.await_promise(pid) == b"mine"
    assert host.await_promise(pid) == b"mine"


def test_others_may_complete_poll_and_delete(worker: Worker, other_worker: Worker) -> None:
    pid = worker.create_promise()
    assert other_worker.poll_promise(pid) is None
    assert other_worker.complete_promise(pid, b"bob was here") is True
    assert other_worker.poll_promise(pid) == b"bob was here"
    other_worker.delete_promise(pid)
    with pytest.raises(PromiseNotFound):
        worker.poll_promise(pid)


def test_gil_is_released_while_awaiting(worker: Worker, host: Host) -> None:
    """A pure-Python thread must make progress (and finally complete) while we await."""
    pid = worker.create_promise()
    counter = [0]

    def count_then_complete() -> None:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            counter[0] += 1
        host.complete_promise(pid, str(counter[0]).encode())

    t = threading.Thread(target=count_then_complete, daemon=True)
    t.start()
    result = worker.await_promise(pid, timeout=30)
    t.join()
    # Holding the GIL in await would starve the counter; it ran freely instead.
    assert int(result) == counter[0] > 10_000


def test_many_waiters_are_all_woken(worker: Worker, host: Host) -> None:
    pid = worker.create_promise()
    results: List[bytes] = []
    lock = threading.Lock()

    def wait() -> None:
        value = host.await_promise(pid, timeout=10)
        with lock:
            results.append(value)

    threads = [threading.Thread(target=wait) for _ in range(6)]
    for t in threads:
        t.start()
    time.sleep(0.1)
    assert worker.complete_promise(pid, b"all") is True
    for t in threads:
        t.join(timeout=10)
    assert results == [b"all"] * 6


def test_closing_host_while_another_thread_awaits_ends_that_await(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    errors: List[BaseException] = []

    def wait() -> None:
        try:
            host.await_promise(pid)
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            errors.append(e)

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.1)
    host.close()
    t.join(timeout=5)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    with pytest.raises(ValueError):
        host.poll_promise(pid)


def test_closing_a_worker_while_it_awaits_ends_that_await(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    errors: List[BaseException] = []

    def wait() -> None:
        try:
            worker.await_promise(pid)
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            errors.append(e)

    t = threading.Thread(target=wait)
    t.start()
    time.sleep(0.1)
    worker.close()
    t.join(timeout=5)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    # The host still works, and a newly opened handle of the worker replays, then goes live.
    assert host.complete_promise(pid, b"after close") is True
    reopened = host.worker(worker.worker_id.component_id, "alice")
    assert reopened is not worker
    assert reopened.create_promise() == pid  # replayed from the oplog
    assert reopened.await_promise(pid, timeout=5) == b"after close"
