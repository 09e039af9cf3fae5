"""Runs every example of docs/python.md, so the guide never rots."""

from __future__ import annotations

import re
from pathlib import Path
from typing import List, Tuple

import pytest

pytest_plugins = ("pytester",)

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "python.md"
_BLOCK = re.compile(r"^```python( pytest)?\n(.*?)^```$", re.S | re.M)


def _blocks() -> List[Tuple[bool, str, int]]:
    text = GUIDE.read_text(encoding="utf-8")
    return [
        (bool(m.group(1)), m.group(2), text.count("\n", 0, m.start()) + 1) for m in _BLOCK.finditer(text)
    ]


BLOCKS = _blocks()


def test_the_guide_has_examples() -> None:
    assert len(BLOCKS) >= 8


@pytest.mark.parametrize("line", [line for is_test, _, line in BLOCKS if not is_test])
def test_example_runs(line: int) -> None:
    code = next(code for is_test, code, at in BLOCKS if at == line)
    exec(compile(code, f"{GUIDE}:{line}", "exec"), {"__name__": "__docs__"})


@pytest.mark.parametrize("line", [line for is_test, _, line in BLOCKS if is_test])
def test_pytest_example_passes(line: int, pytester: pytest.Pytester) -> None:
    code = next(code for is_test, code, at in BLOCKS if at == line)
    pytester.makepyfile(test_guide_example=code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=code.count("\ndef test_") + code.startswith("def test_"))
