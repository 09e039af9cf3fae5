"""Replay through the Python API: restart(), is_replaying, oplog_position, stable ids, recorded
answers, and NonDeterminismError for each kind of divergence (nothing written)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable, List

import pytest

from golem_promise import (
    Host,
    NonDeterminismError,
    PromiseId,
    PromiseNotFound,
    Worker,
    WorkerConflict,
)

from conftest import COMPONENT


def record(w: Worker) -> PromiseId:
    """The recorded run: create (2), complete (3), poll (4), get-oplog-index (5)."""
    pid = w.create_promise()
    assert w.complete_promise(pid, b"one") is True
    assert w.poll_promise(pid) == b"one"
    assert w.get_oplog_index() == 5
    return pid


def test_a_fresh_worker_is_live_at_its_creation_entry(worker: Worker) -> None:
    assert worker.is_replaying is False
    assert worker.oplog_position == 1
    worker.restart()  # nothing recorded: still live
    assert worker.is_replaying is False
    assert worker.oplog_position == 1


def test_is_replaying_and_oplog_position_follow_the_replay(host: Host, worker: Worker) -> None:
    pid = record(worker)
    assert (worker.is_replaying, worker.oplog_position) == (False, 5)
    worker.restart()
    assert (worker.is_replaying, worker.oplog_position) == (True, 1)
    assert worker.create_promise() == pid
    assert (worker.is_replaying, worker.oplog_position) == (True, 2)
    assert worker.complete_promise(pid, b"one") is True
    assert (worker.is_replaying, worker.oplog_position) == (True, 3)
    assert worker.poll_promise(pid) == b"one"
    assert (worker.is_replaying, worker.oplog_position) == (True, 4)
    assert worker.get_oplog_index() == 5  # the last recorded entry: live from here
    assert (worker.is_replaying, worker.oplog_position) == (False, 5)
    assert len(host.oplog(worker.worker_id)) == 5  # replay wrote nothing
    assert worker.get_oplog_index() == 6
    assert (worker.is_replaying, worker.oplog_position) == (False, 6)


def test_ids_are_stable_across_restarts_and_never_reused(tmp_path: Path) -> None:
    db = tmp_path / "ids.db"

    def run(w: Worker) -> List[PromiseId]:
        ids = [w.create_promise() for _ in range(3)]
        w.delete_promise(ids[1])
        return ids

    with Host(db) as host:
        first = run(host.worker(COMPONENT, "ids"))
    for _ in range(3):
        with Host(db) as host:
            w = host.worker(COMPONENT, "ids")
            assert w.is_replaying
            assert run(w) == first
            assert not w.is_replaying
            assert len(host.oplog(w.worker_id)) == 5
            w.restart()  # in-process restarts replay the same ids too
            assert run(w) == first
    with Host(db) as host:
        w = host.worker(COMPONENT, "ids")
        run(w)
        # Past the recorded calls: a new id after every recorded one, never a reused one.
        new = w.create_promise()
        assert new.oplog_idx == 6
        assert new not in first


def test_open_live_skips_replay(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    with Host(db) as host:
        record(host.worker(COMPONENT, "w"))
    with Host(db) as host:
        w = host.worker(COMPONENT, "w", live=True)
        assert (w.is_replaying, w.oplog_position) == (False, 5)
        assert w.create_promise().oplog_idx == 6


def test_replay_returns_recorded_answers_even_when_the_store_changed(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    host.complete_promise(pid, b"recorded")
    assert worker.await_promise(pid) == b"recorded"
    assert worker.poll_promise(pid) == b"recorded"
    with pytest.raises(PromiseNotFound):
        worker.poll_promise(PromiseId(worker.worker_id, 99))  # a failure is recorded too
    host.delete_promise(pid)  # gone from the store; its payload stays for replay
    worker.restart()
    assert worker.create_promise() == pid
    assert worker.await_promise(pid) == b"recorded"
    assert worker.poll_promise(pid) == b"recorded"
    with pytest.raises(PromiseNotFound, match="replayed from oplog entry 5"):
        worker.poll_promise(PromiseId(worker.worker_id, 99))
    assert not worker.is_replaying
    assert len(host.oplog(worker.worker_id)) == 5


def test_an_await_pending_at_the_crash_returns_at_once_if_completed_meanwhile(tmp_path: Path) -> None:
    with Host(tmp_path / "pending.db") as host:
        w = host.worker(COMPONENT, "pending")
        pid = w.create_promise()
        with pytest.raises(TimeoutError):
            w.await_promise(pid, timeout=0.05)  # still waiting when the "crash" comes
        assert len(host.oplog(w.worker_id)) == 2  # an unfinished await is not recorded
        w.restart()
        host.complete_promise(pid, b"while down")
        assert w.create_promise() == pid
        assert not w.is_replaying  # the await was never recorded: it runs live
        started = time.monotonic()
        assert w.await_promise(pid, timeout=10) == b"while down"
        assert time.monotonic() - started < 0.5
        assert [e.kind for e in host.oplog(w.worker_id)][-1] == "await-promise"


def _fnv1a64(data: bytes) -> int:
    h = 0xCBF29CE484222325
    for b in data:
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


# Each divergence: (the replayed calls, expected oplog index, recorded text, attempted text).
# `{p}` is the recorded promise id, `{q}` an id of a promise the recorded run never made.
Divergence = Callable[[Worker, PromiseId, PromiseId], object]
DIVERGENCES: List[tuple[str, Divergence, int, str, str]] = [
    (
        "different function",
        lambda w, p, q: (w.create_promise(), w.poll_promise(p)),
        3,
        "complete-promise({p}, 3 bytes)",
        "poll-promise({p})",
    ),
    (
        "different promise id",
        lambda w, p, q: (w.create_promise(), w.complete_promise(q, b"one")),
        3,
        "complete-promise({p}, 3 bytes)",
        "complete-promise({q}, 3 bytes)",
    ),
    (
        "different payload, same length",
        lambda w, p, q: (w.create_promise(), w.complete_promise(p, b"two")),
        3,
        # The same length: the texts name each payload's FNV-1a hash, so they differ.
        f"complete-promise({{p}}, 3 bytes, fnv1a64 {_fnv1a64(b'one'):016x})",
        f"complete-promise({{p}}, 3 bytes, fnv1a64 {_fnv1a64(b'two'):016x})",
    ),
    (
        "different payload length",
        lambda w, p, q: (w.create_promise(), w.complete_promise(p, b"three")),
        3,
        "complete-promise({p}, 3 bytes)",
        "complete-promise({p}, 5 bytes)",
    ),
    (
        "extra call",
        lambda w, p, q: (w.create_promise(), w.complete_promise(p, b"one"), w.get_oplog_index()),
        4,
        "poll-promise({p})",
        "get-oplog-index()",
    ),
    (
        "missing create",
        lambda w, p, q: w.complete_promise(p, b"one"),
        2,
        "create-promise()",
        "complete-promise({p}, 3 bytes)",
    ),
]


@pytest.mark.parametrize(
    "replayed, idx, recorded, attempted",
    [d[1:] for d in DIVERGENCES],
    ids=[d[0] for d in DIVERGENCES],
)
def test_each_divergence_is_a_non_determinism_error_and_writes_nothing(
    tmp_path: Path, replayed: Divergence, idx: int, recorded: str, attempted: str
) -> None:
    db = tmp_path / "diverge.db"
    with Host(db) as host:
        pid = record(host.worker(COMPONENT, "strict"))
    with Host(db) as host:
        w = host.worker(COMPONENT, "strict")
        before = host.oplog(w.worker_id)
        other = PromiseId(w.worker_id, 42)
        with pytest.raises(NonDeterminismError) as info:
            replayed(w, pid, other)
        err = info.value
        assert err.code == -11
        assert err.oplog_idx == idx
        assert err.recorded == recorded.format(p=pid, q=other)
        assert err.attempted == attempted.format(p=pid, q=other)
        assert f"non-deterministic replay of worker {w.worker_id} at oplog index {idx}: " in err.message
        assert host.oplog(w.worker_id) == before  # nothing written
        assert w.is_replaying and w.oplog_position == idx - 1  # still waiting for entry idx


def test_after_a_non_determinism_error_the_recorded_call_still_replays(worker: Worker) -> None:
    pid = record(worker)
    worker.restart()
    worker.create_promise()
    with pytest.raises(NonDeterminismError):
        worker.complete_promise(pid, b"two")
    assert worker.complete_promise(pid, b"one") is True
    assert worker.oplog_position == 3


def test_non_determinism_error_without_the_usual_message_has_no_details() -> None:
    err = NonDeterminismError("something else")
    assert (err.oplog_idx, err.recorded, err.attempted) == (None, None, None)
    assert err.code == -11


def test_two_hosts_running_one_worker_cannot_interleave_its_oplog(tmp_path: Path) -> None:
    """The audit's case: two handles of one worker both writing would make a later replay hand
    out other ids than the first run did, silently.  The one that falls behind is stopped."""
    db = tmp_path / "twins.db"
    with Host(db) as first_host, Host(db) as second_host:
        first = first_host.worker(COMPONENT, "w")
        second = second_host.worker(COMPONENT, "w")
        ids = [first.create_promise()]  # 2
        with pytest.raises(WorkerConflict, match="another handle of the same worker") as caught:
            second.create_promise()
        assert caught.value.code == -13
        assert len(first_host.oplog(first.worker_id)) == 2  # nothing written
        ids.append(first.create_promise())  # 3
        # A restart takes the oplog as it is: the ids of the first run, then new ones.
        second.restart()
        assert [second.create_promise(), second.create_promise()] == ids
        assert second.create_promise().oplog_idx == 4
        with pytest.raises(WorkerConflict):
            first.create_promise()
        first.restart()
        assert [first.create_promise() for _ in range(3)] == ids + [PromiseId(first.worker_id, 4)]
