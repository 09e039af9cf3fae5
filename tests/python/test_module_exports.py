"""The compiled module exports nothing but its init function (python/exports.map)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from golem_promise import _core


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ELF dynamic symbols")
def test_core_module_exports_only_pyinit() -> None:
    """Template instances of libstdc++/Boost and the C library's gp_* functions stay local,
    so they cannot bind to other copies loaded into the same Python process."""
    nm = shutil.which("nm")
    if nm is None:
        pytest.skip("nm (binutils) is not installed")
    out = subprocess.run(
        [nm, "-D", "--defined-only", _core.__file__], check=True, capture_output=True, text=True
    ).stdout
    defined = sorted(line.split()[-1] for line in out.splitlines() if line.strip())
    assert defined == ["PyInit__core"]
