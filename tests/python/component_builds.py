"""The components the tests run, built from the sources in the repo (cached by source hash).

Built files go to build/components and compiled code to build/component-cache: build outputs,
never committed.  The first build of each takes ~10 s (componentize-py), the first compile ~5 s.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Dict, Tuple

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "scripts" / "build-component.py"
OUT_DIR = ROOT / "build" / "components"
#: Compiled-code cache shared by the test runs (the cache tests use their own folders).
CACHE_DIR = ROOT / "build" / "component-cache"
EXAMPLE_WIT = ROOT / "examples" / "components" / "wit"

#: name -> (WIT folder, world, app folder)
SOURCES: Dict[str, Tuple[Path, str, Path]] = {
    "approval": (EXAMPLE_WIT, "approval", ROOT / "examples" / "components" / "approval"),
    "probe": (EXAMPLE_WIT, "probe-world", ROOT / "tests" / "components" / "probe"),
    "promise-1.1.5": (
        ROOT / "tests" / "components" / "promise-1.1.5" / "wit",
        "promise",
        ROOT / "tests" / "components" / "promise-1.1.5",
    ),
}
#: A component in the text format (no build step).
OPLOG_INDEX_WAT = ROOT / "tests" / "components" / "oplog-index-1.1.0.wat"


def build(name: str) -> Path:
    """The built component ``name`` (built now if its sources changed since the last build)."""
    wit, world, app = SOURCES[name]
    done = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--wit", str(wit), "--world", world, "--app", str(app), "--out-dir", str(OUT_DIR)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"building {name} failed:\n{done.stdout}\n{done.stderr}")
    return Path(done.stdout.strip().splitlines()[-1])
