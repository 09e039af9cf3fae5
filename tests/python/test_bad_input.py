"""Bad input through Python: text with no UTF-8 form, and damaged oplog entries in a file.

Each gives the package's own exception with a clear message; nothing crashes and nothing is
written.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
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


def _entry_without_promise(kind: int) -> bytes:
    """A FlatBuffers Entry that passes verification but has only its kind: no promise field."""
    vtable = (6).to_bytes(2, "little") + (8).to_bytes(2, "little") + (4).to_bytes(2, "little")  # kind at +4
    table = (12 - 4).to_bytes(4, "little", signed=True) + bytes([kind, 0, 0, 0])  # soffset to the vtable
    return (12).to_bytes(4, "little") + vtable + b"\0\0" + table


@pytest.mark.parametrize("idx, kind", [(2, 2), (3, 3)], ids=["create-promise", "complete-promise"])
def test_an_entry_without_its_promise_is_corrupt_not_a_crash(tmp_path: Path, idx: int, kind: int) -> None:
    db = tmp_path / "foreign.db"
    with Host(db) as host:
        w = host.worker(COMPONENT, "victim")
        pid = w.create_promise()  # 2
        assert w.complete_promise(pid, b"abc")  # 3
        wid = w.worker_id
    _damage_entry(db, idx, _entry_without_promise(kind))
    with Host(db) as host:
        with pytest.raises(gp.CorruptDatabase, match=f"oplog entry {idx} is damaged: a .* entry without its promise"):
            host.oplog(wid)
        # Replay reaches it: CorruptDatabase, never an answer made up from a missing field.
        w = host.worker(COMPONENT, "victim")
        with pytest.raises(gp.CorruptDatabase):
            w.create_promise()
            w.complete_promise(pid, b"abc")


LONG_NON_ASCII = ["é" * 200, "€" * 100, "😀" * 80, "a" * 119 + "é" * 10, "a" * 118 + "😀" * 5]


@pytest.mark.parametrize("text", LONG_NON_ASCII, ids=["2-byte", "3-byte", "4-byte", "cut-2", "cut-4"])
def test_long_non_ascii_ids_raise_invalid_id(text: str) -> None:
    for parse in (gp.Uuid.parse, gp.WorkerId.parse, gp.PromiseId.parse):
        with pytest.raises(InvalidId) as info:
            parse(text)
        # Quoted in whole characters: no byte of a cut character (the binding would show it as
        # \xNN rather than fail to decode it).
        assert "\ufffd" not in str(info.value) and "\\x" not in str(info.value), str(info.value)
    with Host(":memory:") as host:
        with pytest.raises(InvalidId):
            host.worker(COMPONENT, text)
        with pytest.raises(InvalidId):
            host.poll_promise(text)


FULL_DISK_SCRIPT = r"""
import os, sys
from golem_promise import ComponentId, Host, StorageError
d, scenario = sys.argv[1], sys.argv[2]
component = ComponentId.parse("0f0f0f0f-0000-4000-8000-000000000022")
db = os.path.join(d, "full.db")
with Host(db) as h:
    pid = h.worker(component, "w").create_promise()
    assert h.complete_promise(pid, b"kept")
holder = Host(db) if scenario == "held" else None  # keeps -wal and -shm in place
if os.path.exists(db + "-gpwake"):
    os.remove(db + "-gpwake")
fd = os.open(os.path.join(d, "fill"), os.O_WRONLY | os.O_CREAT)  # fill the filesystem to the last byte
for size in (65536, 4096, 1):
    try:
        while True:
            os.write(fd, b"x" * size)
    except OSError:
        pass
os.close(fd)
try:
    with Host(db) as h:
        print("opened", h.poll_promise(pid))
except StorageError as e:
    print("StorageError", e.message)
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("unshare") is None, reason="needs root and unshare to mount a small tmpfs")
@pytest.mark.parametrize("scenario", ["alone", "held"])
def test_a_full_filesystem_gives_storage_error_or_success_never_a_signal(tmp_path: Path, scenario: str) -> None:
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    script = tmp_path / "full.py"
    script.write_text(FULL_DISK_SCRIPT)
    # A private mount namespace: the 1 MiB tmpfs is gone with the process.
    inner = f"mount -t tmpfs -o size=1m gp-full {mnt} && exec {sys.executable} {script} {mnt} {scenario}"
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", inner],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, (done.returncode, done.stdout, done.stderr)  # -7 was SIGBUS
    assert done.stdout.startswith(("opened b'kept'", "StorageError")), done.stdout + done.stderr
