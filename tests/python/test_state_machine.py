"""Every cell of the promise state machine (DESIGN §2), through the worker and the host API."""

from __future__ import annotations

import pytest

from golem_promise import PromiseId, PromiseNotFound, Worker

from conftest import Actor


def _pending(worker: Worker) -> PromiseId:
    return worker.create_promise()


def _completed(worker: Worker, payload: bytes = b"first") -> PromiseId:
    pid = worker.create_promise()
    assert worker.complete_promise(pid, payload) is True
    return pid


def _deleted(worker: Worker) -> PromiseId:
    pid = worker.create_promise()
    worker.delete_promise(pid)
    return pid


def _never_created(worker: Worker) -> PromiseId:
    pid = worker.create_promise()
    return PromiseId(pid.worker_id, pid.oplog_idx + 1000)


# ---------------------------------------------------------------- complete_promise


def test_complete_pending_returns_true_and_stores_payload(actor: Actor, worker: Worker) -> None:
    pid = _pending(worker)
    assert actor.complete_promise(pid, b"payload") is True
    assert actor.poll_promise(pid) == b"payload"


def test_complete_completed_returns_false_and_keeps_first_payload(actor: Actor, worker: Worker) -> None:
    pid = _completed(worker, b"first")
    assert actor.complete_promise(pid, b"second") is False
    assert actor.poll_promise(pid) == b"first"
    assert actor.await_promise(pid) == b"first"


@pytest.mark.parametrize("make", [_deleted, _never_created], ids=["deleted", "never-created"])
def test_complete_gone_raises_promise_not_found(actor: Actor, worker: Worker, make: object) -> None:
    pid = make(worker)  # type: ignore[operator]
    with pytest.raises(PromiseNotFound) as info:
        actor.complete_promise(pid, b"x")
    assert info.value.code == -2


# ---------------------------------------------------------------- await_promise


def test_await_pending_blocks_until_timeout(actor: Actor, worker: Worker) -> None:
    pid = _pending(worker)
    with pytest.raises(TimeoutError):
        actor.await_promise(pid, timeout=0.05)
    # Still pending afterwards.
    assert actor.poll_promise(pid) is None


def test_await_completed_returns_payload_at_once(actor: Actor, worker: Worker) -> None:
    pid = _completed(worker, b"done")
    assert actor.await_promise(pid, timeout=0) == b"done"
    assert actor.await_promise(pid) == b"done"


@pytest.mark.parametrize("make", [_deleted, _never_created], ids=["deleted", "never-created"])
def test_await_gone_raises_promise_not_found(actor: Actor, worker: Worker, make: object) -> None:
    pid = make(worker)  # type: ignore[operator]
    with pytest.raises(PromiseNotFound):
        actor.await_promise(pid, timeout=1.0)


# ---------------------------------------------------------------- poll_promise


def test_poll_pending_returns_none(actor: Actor, worker: Worker) -> None:
    assert actor.poll_promise(_pending(worker)) is None


def test_poll_completed_returns_payload(actor: Actor, worker: Worker) -> None:
    assert actor.poll_promise(_completed(worker, b"abc")) == b"abc"


@pytest.mark.parametrize("make", [_deleted, _never_created], ids=["deleted", "never-created"])
def test_poll_gone_raises_promise_not_found(actor: Actor, worker: Worker, make: object) -> None:
    pid = make(worker)  # type: ignore[operator]
    with pytest.raises(PromiseNotFound):
        actor.poll_promise(pid)


# ---------------------------------------------------------------- delete_promise


def test_delete_pending_removes_it(actor: Actor, worker: Worker) -> None:
    pid = _pending(worker)
    actor.delete_promise(pid)
    with pytest.raises(PromiseNotFound):
        actor.poll_promise(pid)
    with pytest.raises(PromiseNotFound):
        actor.complete_promise(pid, b"late")


def test_delete_completed_removes_it(actor: Actor, worker: Worker) -> None:
    pid = _completed(worker)
    actor.delete_promise(pid)
    with pytest.raises(PromiseNotFound):
        actor.poll_promise(pid)


@pytest.mark.parametrize("make", [_deleted, _never_created], ids=["deleted", "never-created"])
def test_delete_gone_is_a_no_op(actor: Actor, worker: Worker, make: object) -> None:
    pid = make(worker)  # type: ignore[operator]
    actor.delete_promise(pid)
    actor.delete_promise(pid)  # idempotent, never errors


# ---------------------------------------------------------------- payloads


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00", b"a\x00b\x00", bytes(range(256)), b"\xff" * 100_000],
    ids=["empty", "nul", "embedded-nuls", "all-bytes", "100k"],
)
def test_payload_round_trips_exactly(actor: Actor, worker: Worker, payload: bytes) -> None:
    pid = worker.create_promise()
    assert actor.complete_promise(pid, payload) is True
    polled = actor.poll_promise(pid)
    assert polled == payload and type(polled) is bytes
    assert actor.await_promise(pid) == payload


def test_empty_payload_is_completed_not_pending(actor: Actor, worker: Worker) -> None:
    pid = worker.create_promise()
    actor.complete_promise(pid, b"")
    assert actor.poll_promise(pid) == b""  # b"", not None


@pytest.mark.parametrize("wrap", [bytes, bytearray, memoryview], ids=["bytes", "bytearray", "memoryview"])
def test_complete_accepts_bytes_like(actor: Actor, worker: Worker, wrap: type) -> None:
    pid = worker.create_promise()
    assert actor.complete_promise(pid, wrap(b"bytes-like")) is True
    assert actor.poll_promise(pid) == b"bytes-like"


def test_complete_accepts_non_contiguous_memoryview(worker: Worker) -> None:
    pid = worker.create_promise()
    view = memoryview(b"a-b-c-d")[::2]
    assert worker.complete_promise(pid, view) is True
    assert worker.poll_promise(pid) == b"abcd"


def test_complete_rejects_str(worker: Worker) -> None:
    pid = worker.create_promise()
    with pytest.raises(TypeError):
        worker.complete_promise(pid, "text")  # type: ignore[arg-type]
    assert worker.poll_promise(pid) is None


def test_first_payload_wins_under_racing_threads(worker: Worker) -> None:
    import threading

    pid = worker.create_promise()
    results: list[tuple[int, bool]] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def racer(i: int) -> None:
        start.wait()
        won = worker.host.complete_promise(pid, f"racer-{i}".encode())
        with lock:
            results.append((i, won))

    threads = [threading.Thread(target=racer, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [i for i, won in results if won]
    assert len(results) == 8 and len(winners) == 1
    assert worker.await_promise(pid) == f"racer-{winners[0]}".encode()


def test_promise_ids_are_never_reused_after_deletion(worker: Worker) -> None:
    first = worker.create_promise()
    worker.delete_promise(first)
    second = worker.create_promise()
    assert second.oplog_idx > first.oplog_idx
    assert second != first


def test_promise_id_text_is_accepted(worker: Worker) -> None:
    pid = worker.create_promise()
    assert worker.complete_promise(str(pid), b"via text") is True
    assert worker.host.poll_promise(str(pid)) == b"via text"
