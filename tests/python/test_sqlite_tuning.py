"""Importing golem_promise turns off SQLite's memory statistics (a global mutex per allocation)
when nothing in the process has used SQLite yet, and leaves SQLite alone otherwise."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import ctypes, sys
    if sys.argv[1] == "sqlite-first":
        import sqlite3
        sqlite3.connect(":memory:").execute("CREATE TABLE t (x)")
    from golem_promise import Host, ComponentId, Uuid
    with Host() as host:
        worker = host.worker(ComponentId(Uuid(1, 2)), "tuning")
        pid = worker.create_promise()
        assert host.complete_promise(pid, b"x" * 1000)
        assert worker.await_promise(pid, timeout=1.0) == b"x" * 1000
        lib = ctypes.CDLL("libsqlite3.so.0")
        lib.sqlite3_memory_used.restype = ctypes.c_int64
        print(lib.sqlite3_memory_used())
    """
)


def memory_used(order: str) -> int:
    out = subprocess.run([sys.executable, "-c", SCRIPT, order], check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def test_import_first_turns_sqlite_memory_statistics_off() -> None:
    assert memory_used("golem-promise-first") == 0


def test_sqlite_already_in_use_keeps_its_statistics() -> None:
    assert memory_used("sqlite-first") > 0
