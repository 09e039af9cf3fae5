"""docs/replay.md's examples: every ``python`` block runs, in order, as a reader's session; the
worker that breaks determinism fails the way the page shows (the error, its fields, the
check_replay report); ``python pytest`` blocks pass under pytest.  So the page stays true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

import golem_promise as gp

pytest_plugins = ("pytester",)

PAGE = Path(__file__).resolve().parents[2] / "docs" / "replay.md"
# A fenced block: its language, the rest of its info string ("fails", "pytest"), its text.
_BLOCK = re.compile(r"^```(\w*) ?([\w ]*)\n(.*?)^```$", re.S | re.M)
#: What a python block's info string may add: nothing (run in the session), "fails" (run in the
#: session, must raise NonDeterminismError as the page shows), "pytest" (a test file).
TAGS = {"", "fails", "pytest"}


def _python_blocks() -> List[Tuple[str, str, int]]:
    """(tag, code, line) of each python block of the page."""
    text = PAGE.read_text(encoding="utf-8")
    return [
        (m.group(2).strip(), m.group(3), text.count("\n", 0, m.start()) + 1)
        for m in _BLOCK.finditer(text)
        if m.group(1) == "python"
    ]


BLOCKS = _python_blocks()


def _section_blocks(title: str) -> List[str]:
    text = PAGE.read_text(encoding="utf-8")
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return [m.group(3) for m in _BLOCK.finditer(text[start : end if end >= 0 else len(text)])]


# A described complete-promise call: "complete-promise(<id>, N bytes)", with the payload's hash
# when the two payloads have the same length.
_CALL = r"complete-promise\(1a2b3c4d-0000-4000-8000-00000000beef/orders-1/2, \d+ bytes(, fnv1a64 [0-9a-f]{16})?\)"


def test_the_breaking_example_fails_as_the_page_shows(tmp_path: Path) -> None:
    example, shown_error = _section_blocks("A worker that breaks determinism")[:2]
    script = tmp_path / "example.py"
    script.write_text(example, encoding="utf-8")
    r = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, r.stderr
    first, second = r.stdout.splitlines()
    assert re.fullmatch(r"\{'order': 42, 'at': [0-9.]+\}", first)
    assert second == "True 1"
    error = r.stderr.strip().splitlines()[-1]
    pattern = (
        r"golem_promise\._errors\.NonDeterminismError: non-deterministic replay of worker "
        rf"1a2b3c4d-0000-4000-8000-00000000beef/orders-1 at oplog index 3: recorded {_CALL}, attempted {_CALL}"
    )
    assert re.fullmatch(pattern, error), error
    assert re.fullmatch(pattern, shown_error.strip()), "the page's error text no longer has the library's form"


def test_the_check_replay_example_reports_the_divergence_as_the_page_shows() -> None:
    example = _section_blocks("A worker that breaks determinism")[0]
    worker_code = example[: example.index("component = ")]  # the worker function, no host
    check = _section_blocks("Checking worker code: `golem_promise.testing.check_replay`")[0]
    namespace: dict[str, object] = {"__name__": "__docs__"}
    exec(compile(worker_code, f"{PAGE}:example", "exec"), namespace)
    exec(compile(check.split("\n", 2)[0] + "\nreport = check_replay(order_worker)\n", f"{PAGE}:check", "exec"), namespace)
    report = namespace["report"]
    assert report.ok is False  # type: ignore[attr-defined]
    assert report.oplog_idx == 3  # type: ignore[attr-defined]
    divergence = str(report.divergence)  # type: ignore[attr-defined]
    assert divergence.startswith("replay after the live run: non-deterministic replay of worker ")
    shown = re.search(r"report\.divergence\s+# '(.*)'$", check, re.M)
    assert shown is not None
    # The page's text has the library's form (ids of check_replay's own worker, lengths, hashes).
    call = r"complete-promise\([0-9a-f-]{36}/check-replay/2, \d+ bytes(, fnv1a64 [0-9a-f]{16})?\)"
    form = rf"replay after the live run: non-deterministic replay of worker [0-9a-f-]{{36}}/check-replay at oplog index 3: recorded {call}, attempted {call}"
    assert re.fullmatch(form, shown.group(1)), shown.group(1)
    assert re.fullmatch(form, divergence), divergence


def test_every_python_block_is_run() -> None:
    assert len(BLOCKS) >= 5
    assert {tag for tag, _, _ in BLOCKS} <= TAGS, "a python block with a tag no test runs"
    assert [tag for tag, _, _ in BLOCKS].count("fails") == 1


def test_the_page_runs_as_a_session(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The python blocks in order, in one namespace and a fresh directory, as a reader would
    run them: a later block may use what an earlier one defined (check_replay(order_worker))."""
    monkeypatch.chdir(tmp_path)
    namespace: Dict[str, object] = {"__name__": "__docs__"}
    for tag, code, line in BLOCKS:
        if tag == "pytest":
            continue
        compiled = compile(code, f"{PAGE}:{line}", "exec")
        if tag == "fails":
            with pytest.raises(gp.NonDeterminismError):
                exec(compiled, namespace)
        else:
            exec(compiled, namespace)


@pytest.mark.parametrize("line", [line for tag, _, line in BLOCKS if tag == "pytest"])
def test_pytest_example_passes(line: int, pytester: pytest.Pytester) -> None:
    code = next(code for _, code, at in BLOCKS if at == line)
    pytester.makepyfile(test_replay_page_example=code)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=code.count("\ndef test_") + code.startswith("def test_"))
