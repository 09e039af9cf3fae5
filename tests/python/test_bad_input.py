"""Bad input through Python: text with no UTF-8 form, and damaged oplog entries in a file.

Each gives the package's own exception with a clear message; nothing crashes and nothing is
written.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Callable, List, Tuple

import pytest

import golem_promise as gp
from golem_promise import ComponentId, Host, InvalidId, PromiseId, Uuid, WorkerId

from conftest import COMPONENT

# A lone surrogate: what os.fsdecode and surrogateescape make of bytes that are not UTF-8.
LONE = "\udcff"
CID = str(COMPONENT)

PARSERS: List[Tuple[str, Callable[[str], object], str]] = [
    ("Uuid.parse", Uuid.parse, f"{CID[:-1]}{LONE}"),
    ("ComponentId.parse", ComponentId.parse, f"{LONE}{CID}"),
    ("WorkerId.parse", WorkerId.parse, f"{CID}/w{LONE}"),
    ("PromiseId.parse", PromiseId.parse, f"{CID}/w{LONE}/2"),
    ("PromiseId.parse, index", PromiseId.parse, f"{CID}/w/2{LONE}"),
]


@pytest.mark.parametrize("parse, text", [p[1:] for p in PARSERS], ids=[p[0] for p in PARSERS])
def test_parsing_text_with_lone_surrogates_raises_invalid_id(parse: Callable[[str], object], text: str) -> None:
    with pytest.raises(InvalidId) as info:
        parse(text)
    assert isinstance(info.value, ValueError)
    assert "UTF-8" in str(info.value) or "Unicode" in str(info.value)


def test_a_worker_id_with_a_lone_surrogate_in_its_name_raises_invalid_id() -> None:
    with pytest.raises(InvalidId, match="worker_name"):
        WorkerId(COMPONENT, f"name{LONE}")


def test_opening_a_worker_with_a_lone_surrogate_in_its_name_raises_invalid_id(host: Host) -> None:
    with pytest.raises(InvalidId, match="worker_name"):
        host.worker(COMPONENT, f"name{LONE}")
    with pytest.raises(InvalidId):
        host.worker(f"{LONE}{CID}", "name")
    assert host.list_promises() == []


def test_promise_calls_with_unencodable_id_text_raise_invalid_id(host: Host) -> None:
    w = host.worker(COMPONENT, "caller")
    pid = w.create_promise()
    bad = f"{CID}/caller{LONE}/{pid.oplog_idx}"
    before = host.oplog(w.worker_id)
    calls: List[Callable[[], object]] = [
        lambda: host.complete_promise(bad, b"x"),
        lambda: host.poll_promise(bad),
        lambda: host.await_promise(bad, timeout=0),
        lambda: host.delete_promise(bad),
        lambda: w.complete_promise(bad, b"x"),
        lambda: w.poll_promise(bad),
        lambda: w.await_promise(bad, timeout=0),
        lambda: w.delete_promise(bad),
        lambda: host.oplog(f"{CID}/caller{LONE}"),
    ]
    for call in calls:
        with pytest.raises(InvalidId):
            call()
    assert host.oplog(w.worker_id) == before
    assert host.poll_promise(pid) is None


def test_module_level_calls_with_unencodable_id_text_raise_invalid_id() -> None:
    with pytest.raises(InvalidId):
        gp.complete_promise(f"{CID}/w{LONE}/2", b"x")


@pytest.mark.parametrize("name", [f"host{LONE}.db", "host\x00.db"], ids=["lone surrogate", "NUL"])
def test_a_host_path_that_cannot_reach_sqlite_raises_invalid_id_and_creates_nothing(
    tmp_path: Path, name: str
) -> None:
    with pytest.raises(InvalidId, match="path") as info:
        Host(str(tmp_path / name))
    assert isinstance(info.value, ValueError)
    assert list(tmp_path.iterdir()) == []


def _damage_entry(db: Path, idx: int, garbage: bytes) -> None:
    conn = sqlite3.connect(db)
    try:
        with conn:
            changed = conn.execute("UPDATE oplog SET entry = ? WHERE idx = ?", (garbage, idx)).rowcount
        assert changed == 1
    finally:
        conn.close()


@pytest.mark.parametrize(
    "garbage", [b"\xff" * 16, b"not a flatbuffer, just some text", b"\x04\x00\x00", bytes(64)],
    ids=["ones", "text", "short", "zeros"],
)
def test_a_damaged_oplog_entry_raises_corrupt_database(tmp_path: Path, garbage: bytes) -> None:
    db = tmp_path / "damaged.db"
    with Host(db) as host:
        w = host.worker(COMPONENT, "victim")
        pid = w.create_promise()  # 2
        assert w.complete_promise(pid, b"abc")  # 3
        w.get_oplog_index()  # 4
        wid = w.worker_id
    _damage_entry(db, 3, garbage)
    before = db.read_bytes()

    with Host(db) as host:
        with pytest.raises(gp.CorruptDatabase) as info:
            host.oplog(wid)
        assert info.value.code == -4
        assert str(info.value)
        # Replaying the worker reaches the damaged entry: a call fails (replay may read ahead,
        # so possibly one before it), nothing is answered from garbage, nothing is written.
        w = host.worker(COMPONENT, "victim")
        with pytest.raises(gp.CorruptDatabase):
            assert w.create_promise() == pid
            w.complete_promise(pid, b"abc")
        # The promise itself is intact for outside parties.
        assert host.poll_promise(pid) == b"abc"
    assert db.read_bytes() == before


# ---------------------------------------------------------------- files a host must refuse


def _host_file(path: Path) -> bytes:
    with Host(path) as host:
        w = host.worker(COMPONENT, "filler")
        for i in range(30):
            w.complete_promise(w.create_promise(), bytes([i]) * 8000)
    return path.read_bytes()


def _zeros(path: Path) -> None:
    path.write_bytes(bytes(4096))


def _text(path: Path) -> None:
    path.write_text("just some text\nin a file\n")


def _truncated(path: Path) -> None:
    path.write_bytes(_host_file(path)[: 40 * 1024])


def _foreign(path: Path) -> None:
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
        conn.execute("INSERT INTO customers (name) VALUES ('ada')")
    conn.close()


def _newer(path: Path) -> None:
    _host_file(path)
    conn = sqlite3.connect(path)
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    assert version >= 2
    conn.execute(f"PRAGMA user_version = {version + 1}")
    conn.close()


BAD_FILES: List[Tuple[str, Callable[[Path], None], type]] = [
    ("zeros", _zeros, gp.GolemPromiseError),
    ("text", _text, gp.GolemPromiseError),
    ("truncated", _truncated, gp.CorruptDatabase),
    ("foreign schema", _foreign, gp.SchemaError),
    ("newer schema version", _newer, gp.SchemaError),
]


@pytest.mark.parametrize("make, error", [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES])
def test_a_file_a_host_cannot_use_raises_a_clear_error_and_stays_unchanged(
    tmp_path: Path, make: Callable[[Path], None], error: type
) -> None:
    path = tmp_path / "bad.db"
    make(path)
    before = path.read_bytes()
    entries = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(error) as info:
        Host(path)
    assert isinstance(info.value, (gp.SchemaError, gp.CorruptDatabase))  # not a bare StorageError
    assert str(info.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == entries  # no -wal, -shm or doorbell left
