"""The C++ parts include one way (docs/architecture.md): the state machine (core/) includes no
storage or HTTP header and nothing of store/ or server/; the SQLite store includes no HTTP header
and nothing of server/; the HTTP front includes no store and no SQLite."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Tuple

ROOT = Path(__file__).resolve().parents[2]
INCLUDE = re.compile(r'^\s*#\s*include\s*[<"]([^>"]+)[>"]', re.MULTILINE)

SQLITE = re.compile(r"^sqlite3\.h$|^store/")
HTTP = re.compile(r"^boost/(beast|asio)/|^httplib\.h$|^server/")

#: folder -> the includes it must not have (pattern, why).
RULES: Dict[str, List[Tuple[re.Pattern[str], str]]] = {
    "core": [(SQLITE, "storage"), (HTTP, "HTTP")],
    "store": [(HTTP, "HTTP")],
    "server": [(SQLITE, "storage")],
}


def includes(folder: Path) -> Dict[str, List[str]]:
    """file (relative to the root) -> what it includes."""
    out: Dict[str, List[str]] = {}
    for path in sorted(folder.rglob("*")):
        if path.suffix in (".hpp", ".cpp", ".h", ".c"):
            out[str(path.relative_to(ROOT))] = INCLUDE.findall(path.read_text(encoding="utf-8"))
    return out


def violations(folder: str) -> List[str]:
    found = includes(ROOT / folder)
    assert found, f"no sources under {folder}/"
    return [f"{file} includes {inc} ({why})" for file, incs in found.items() for inc in incs for pattern, why in RULES[folder] if pattern.search(inc)]


def test_the_state_machine_includes_no_storage_and_no_http() -> None:
    assert violations("core") == []


def test_the_sqlite_store_includes_no_http() -> None:
    assert violations("store") == []


def test_the_http_front_includes_no_store() -> None:
    assert violations("server") == []


def test_the_rules_see_the_includes_they_forbid() -> None:
    # The store and the front do include what the core must not: the check reads them.
    assert any("sqlite3.h" in incs for incs in includes(ROOT / "store").values())
    assert any(any(i.startswith("boost/beast/") for i in incs) for incs in includes(ROOT / "server").values())
    assert any(SQLITE.search(i) for i in ["sqlite3.h", "store/sqlite/sqlite.hpp"]) and HTTP.search("boost/beast/http.hpp")
