"""File hosts: state and oplogs survive closing and reopening the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from golem_promise import (
    ComponentId,
    Host,
    NonDeterminismError,
    PromiseNotFound,
    Uuid,
    WorkerId,
    WorkerNotFound,
)

COMPONENT = ComponentId(Uuid(0x1234, 0x5678))


@pytest.mark.parametrize("synchronous", ["full", "normal"])
def test_file_host_keeps_promises_across_reopen(tmp_path: Path, synchronous: str) -> None:
    db = tmp_path / "host.db"
    with Host(db, synchronous=synchronous) as host:
        w = host.worker(COMPONENT, "durable")
        done, pending, deleted = w.create_promise(), w.create_promise(), w.create_promise()
        assert w.complete_promise(done, b"\x00persisted\x00") is True
        w.delete_promise(deleted)
    assert db.exists()

    with Host(str(db), synchronous=synchronous) as host:
        assert host.poll_promise(done) == b"\x00persisted\x00"
        assert host.complete_promise(done, b"again") is False
        assert host.poll_promise(pending) is None
        with pytest.raises(PromiseNotFound):
            host.poll_promise(deleted)
        assert host.complete_promise(pending, b"later") is True

    with Host(db) as host:
        assert host.await_promise(pending, timeout=0) == b"later"


def test_oplog_survives_reopen(tmp_path: Path) -> None:
    db = tmp_path / "oplog.db"
    with Host(db) as host:
        w = host.worker(COMPONENT, "log")
        w.create_promise()
        w.get_oplog_index()
        before = host.oplog(w.worker_id)
    with Host(db) as host:
        assert host.oplog(WorkerId(COMPONENT, "log")) == before
        assert [e.kind for e in before] == ["create", "create-promise", "get-oplog-index"]


def test_two_hosts_on_one_file_see_each_others_completions(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    with Host(db) as a, Host(db) as b:
        pid = a.worker(COMPONENT, "shared").create_promise()
        assert b.complete_promise(pid, b"from b") is True
        assert a.await_promise(pid, timeout=5) == b"from b"


def test_unknown_worker_oplog_raises_worker_not_found(tmp_path: Path) -> None:
    with Host(tmp_path / "empty.db") as host:
        with pytest.raises(WorkerNotFound):
            host.oplog(WorkerId(COMPONENT, "nobody"))


def test_in_memory_hosts_are_private(worker: object) -> None:
    with Host() as a, Host(":memory:") as b:
        pid = a.worker(COMPONENT, "w").create_promise()
        with pytest.raises(PromiseNotFound):
            b.poll_promise(pid)


def test_reopened_worker_replays_its_calls_then_continues_live(tmp_path: Path) -> None:
    db = tmp_path / "replay.db"
    with Host(db) as host:
        w = host.worker(COMPONENT, "replayed")
        first, second = w.create_promise(), w.create_promise()
        assert w.complete_promise(first, b"recorded") is True
        w.delete_promise(second)
        recorded = host.oplog(w.worker_id)

    with Host(db) as host:
        w = host.worker(COMPONENT, "replayed")
        # Replay: the same calls get the recorded answers and write nothing.
        assert w.create_promise() == first
        assert w.create_promise() == second
        assert w.complete_promise(first, b"recorded") is True
        w.delete_promise(second)
        assert host.oplog(w.worker_id) == recorded
        # Past the end of the oplog the worker is live again: new ids, never reused.
        third = w.create_promise()
        assert third.oplog_idx == len(recorded) + 1
        assert host.poll_promise(third) is None


def test_a_differing_call_during_replay_is_a_non_determinism_error(tmp_path: Path) -> None:
    db = tmp_path / "nondeterminism.db"
    with Host(db) as host:
        w = host.worker(COMPONENT, "strict")
        pid = w.create_promise()
        w.complete_promise(pid, b"one")
    with Host(db) as host:
        w = host.worker(COMPONENT, "strict")
        assert w.create_promise() == pid
        with pytest.raises(NonDeterminismError) as info:
            w.complete_promise(pid, b"two")  # recorded with b"one"
        assert info.value.code == -11
        assert len(host.oplog(w.worker_id)) == 3  # nothing written
