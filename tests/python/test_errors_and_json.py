"""Exception hierarchy, status codes, JSON helpers, and handle lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import golem_promise as gp
from golem_promise import Host, Worker


@pytest.mark.parametrize(
    "cls, code",
    [
        (gp.InvalidId, -1),
        (gp.PromiseNotFound, -2),
        (gp.CorruptDatabase, -4),
        (gp.StorageError, -5),
        (gp.DatabaseBusy, -7),
        (gp.PromiseNotOwned, -8),
        (gp.PayloadTooLarge, -9),
        (gp.SchemaError, -10),
        (gp.NonDeterminismError, -11),
        (gp.WorkerNotFound, -12),
        (gp.WorkerConflict, -13),
        (gp.InternalError, -99),
    ],
)
def test_error_classes_carry_their_pinned_codes(cls: type, code: int) -> None:
    assert issubclass(cls, gp.GolemPromiseError)
    err = cls("message")
    assert err.code == code and str(err) == "message"


def test_status_mapping_lives_in_one_table() -> None:
    from golem_promise._errors import error_from_status

    assert type(error_from_status(-3, "t")) is TimeoutError
    assert type(error_from_status(-2, "gone")) is gp.PromiseNotFound
    unknown = error_from_status(-1234, "")
    assert type(unknown) is gp.GolemPromiseError and unknown.code == -1234
    assert str(error_from_status(-2, ""))  # falls back to gp_errstr's text


def test_raised_errors_carry_the_library_message(worker: Worker) -> None:
    pid = worker.create_promise()
    worker.delete_promise(pid)
    with pytest.raises(gp.PromiseNotFound) as info:
        worker.poll_promise(pid)
    assert str(pid.oplog_idx) in str(info.value)


def test_schema_error_for_a_file_that_is_not_a_golem_database(tmp_path: Path) -> None:
    db = tmp_path / "other.db"
    import sqlite3

    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE unrelated (x)")
    conn.close()
    with pytest.raises(gp.SchemaError):
        Host(db)


def test_storage_error_for_an_unwritable_location(tmp_path: Path) -> None:
    with pytest.raises(gp.GolemPromiseError) as info:
        Host(tmp_path / "missing-dir" / "host.db")
    assert isinstance(info.value, (gp.StorageError, gp.SchemaError))


def test_host_options_are_validated() -> None:
    with pytest.raises(ValueError):
        Host(synchronous="sometimes")
    with pytest.raises(ValueError):
        Host(busy_timeout=-1)


@pytest.mark.parametrize(
    "value",
    [{"approved": True, "by": "alice"}, [1, 2.5, None, "ü"], "text", 42, None, {}],
    ids=["object", "list", "str", "int", "null", "empty"],
)
def test_json_round_trip(worker: Worker, value: Any) -> None:
    pid = worker.create_promise()
    assert worker.complete_promise_json(pid, value) is True
    assert worker.await_promise_json(pid) == value
    assert worker.complete_promise_json(pid, "second") is False


def test_json_is_compact_utf8(worker: Worker) -> None:
    pid = worker.create_promise()
    worker.complete_promise_json(pid, {"by": "zoë", "n": [1, 2]})
    assert worker.poll_promise(pid) == '{"by":"zoë","n":[1,2]}'.encode("utf-8")


def test_await_json_of_non_json_payload_raises_value_error(worker: Worker) -> None:
    pid = worker.create_promise()
    worker.complete_promise(pid, b"\xff not json")
    with pytest.raises(ValueError):
        worker.await_promise_json(pid)


def test_module_level_json_helpers_use_the_current_worker(worker: Worker) -> None:
    with worker:
        pid = gp.create_promise()
        assert gp.complete_promise_json(pid, {"k": [True]}) is True
        assert gp.await_promise_json(pid, timeout=1) == {"k": [True]}


def test_payload_too_large_is_an_error_not_a_crash(worker: Worker) -> None:
    import mmap

    assert gp.MAX_PAYLOAD >= 512 * 1024 * 1024
    pid = worker.create_promise()
    # An anonymous mapping one byte over the limit: untouched pages cost no memory.
    big = mmap.mmap(-1, gp.MAX_PAYLOAD + 1)
    view = memoryview(big)
    try:
        with pytest.raises(gp.PayloadTooLarge) as info:
            worker.complete_promise(pid, view)
        assert info.value.code == -9
    finally:
        view.release()
        big.close()
    assert worker.poll_promise(pid) is None  # still pending, still usable
    assert worker.complete_promise(pid, b"small") is True


def test_closed_host_and_worker_raise_value_error() -> None:
    host = Host()
    worker = host.worker(gp.ComponentId(gp.Uuid(1, 1)), "w")
    pid = worker.create_promise()
    host.close()
    host.close()  # idempotent
    assert host.closed and worker.closed
    with pytest.raises(ValueError):
        host.poll_promise(pid)
    with pytest.raises(ValueError):
        worker.create_promise()


def test_worker_is_cached_per_id_until_closed(host: Host) -> None:
    a = host.worker(gp.Uuid(1, 1), "same")
    assert host.worker(gp.Uuid(1, 1), "same") is a
    a.close()
    b = host.worker(gp.Uuid(1, 1), "same")
    assert b is not a and not b.closed
    assert b.create_promise().oplog_idx == 2  # same worker, same oplog


def test_version_constants() -> None:
    assert gp.__version__ == gp.LIBRARY_VERSION == "0.1.0"
    assert gp.WORKER_NAME_MAX == 100
