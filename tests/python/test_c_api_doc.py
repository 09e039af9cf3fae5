"""docs/c-api.md stays true to the header: every function and status code, and the quoted tour."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "c-api.md").read_text(encoding="utf-8")
HEADER = (ROOT / "include" / "golem_promise.h").read_text(encoding="utf-8")


def test_every_public_function_is_listed() -> None:
    functions = re.findall(r"^GP_API [^(]*?\b(gp_\w+)\(", HEADER, re.M)
    assert len(functions) >= 50
    missing = [name for name in functions if f"- `{name}(" not in DOC]
    assert missing == []


def test_every_status_code_is_in_the_table() -> None:
    codes = re.findall(r"^#define (GP_OK|GP_E\w+)\s+(-?\d+)", HEADER, re.M)
    assert len(codes) >= 14
    missing = [name for name, value in codes if f"| `{name}` | {value} |" not in DOC]
    assert missing == []


def test_the_tour_is_quoted_as_it_is() -> None:
    tour = (ROOT / "examples" / "c_api_tour.c").read_text(encoding="utf-8")
    blocks = re.findall(r"^```c\n(.*?)^```$", DOC, re.S | re.M)
    assert tour in blocks
