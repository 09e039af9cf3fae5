"""Contention through Python: a writer that cannot get the file's write lock within the host's
``busy_timeout`` gets DatabaseBusy (GP_EBUSY), never sqlite3's "database is locked" leaking
through, and the host works again once the lock is released."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from golem_promise import DatabaseBusy, GolemPromiseError, Host

from conftest import COMPONENT


def test_a_write_blocked_past_the_busy_timeout_raises_database_busy(tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    with Host(db, busy_timeout=0.1) as host:
        w = host.worker(COMPONENT, "blocked")
        pid = w.create_promise()
        before = host.oplog(w.worker_id)
        # Another process's write transaction, as the sqlite3 module holds it: not ours, so it
        # rings no doorbell of ours either.
        other = sqlite3.connect(db, isolation_level=None, timeout=0)
        try:
            other.execute("BEGIN IMMEDIATE")
            for call in (lambda: host.complete_promise(pid, b"x"), w.create_promise):
                with pytest.raises(DatabaseBusy) as info:
                    call()
                err = info.value
                assert isinstance(err, GolemPromiseError) and err.code == -7
                assert "SQLITE_BUSY" not in str(err)
            # Readers are not blocked (WAL): the failed calls left the store and oplog as they were.
            assert host.poll_promise(pid) is None
            assert host.oplog(w.worker_id) == before
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert host.complete_promise(pid, b"after") is True
        assert w.create_promise().oplog_idx == pid.oplog_idx + 1  # the failed create left no gap
