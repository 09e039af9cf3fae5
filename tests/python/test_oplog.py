"""Oplog entries: one per worker call, indexed from 1, with kinds, statuses and payload facts."""

from __future__ import annotations

import time

import pytest

from golem_promise import Host, OplogEntry, PromiseNotFound, Worker


def test_oplog_records_one_entry_per_call(host: Host, worker: Worker) -> None:
    before = time.time()
    pid = worker.create_promise()                      # 2
    assert pid.oplog_idx == 2
    assert worker.poll_promise(pid) is None            # 3
    assert worker.complete_promise(pid, b"hello")      # 4
    assert not worker.complete_promise(pid, b"x")      # 5
    assert worker.poll_promise(pid) == b"hello"        # 6
    assert worker.await_promise(pid) == b"hello"       # 7
    assert worker.get_oplog_index() == 8               # 8
    worker.delete_promise(pid)                         # 9
    with pytest.raises(PromiseNotFound):
        worker.poll_promise(pid)                       # 10 (errors are recorded too)

    log = host.oplog(worker.worker_id)
    assert [e.oplog_idx for e in log] == list(range(1, 11))
    assert [e.kind for e in log] == [
        "create",
        "create-promise",
        "poll-promise",
        "complete-promise",
        "complete-promise",
        "poll-promise",
        "await-promise",
        "get-oplog-index",
        "delete-promise",
        "poll-promise",
    ]
    assert all(isinstance(e, OplogEntry) for e in log)
    assert log[0].promise_id is None
    assert all(e.promise_id == pid for e in log[1:7] + log[8:])
    assert [e.status for e in log] == [0] * 9 + [PromiseNotFound.default_code]
    assert [e.result_flag for e in log[2:6]] == [False, True, False, True]
    assert (log[3].has_payload, log[3].payload_len) == (True, 5)
    assert (log[4].has_payload, log[4].payload_len) == (True, 1)
    assert log[3].payload_hash == log[5].payload_hash == log[6].payload_hash != log[4].payload_hash
    assert not log[2].has_payload
    assert all(before * 1e6 - 1e6 <= e.timestamp_us <= time.time() * 1e6 + 1e6 for e in log)
    assert [e.timestamp_us for e in log] == sorted(e.timestamp_us for e in log)


def test_host_level_calls_write_no_oplog_entries(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    host.complete_promise(pid, b"x")
    host.poll_promise(pid)
    host.await_promise(pid)
    host.delete_promise(pid)
    assert [e.kind for e in host.oplog(worker.worker_id)] == ["create", "create-promise"]


def test_timed_out_await_is_not_recorded(host: Host, worker: Worker) -> None:
    pid = worker.create_promise()
    with pytest.raises(TimeoutError):
        worker.await_promise(pid, timeout=0.12)  # several internal slices
    assert len(host.oplog(worker.worker_id)) == 2


def test_get_oplog_index_counts_up(worker: Worker) -> None:
    first = worker.get_oplog_index()
    assert first == 2  # after the creation entry
    assert worker.get_oplog_index() == first + 1
    assert worker.create_promise().oplog_idx == first + 2


def test_oplogs_are_per_worker(host: Host, worker: Worker, other_worker: Worker) -> None:
    a = worker.create_promise()
    b = other_worker.create_promise()
    assert a.oplog_idx == b.oplog_idx == 2
    assert a != b
    assert len(host.oplog(worker.worker_id)) == len(host.oplog(str(other_worker.worker_id))) == 2
