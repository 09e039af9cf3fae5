"""scripts/setup-system.sh derives bookworm-backports (for Catch2 3) from the apt sources a machine
already has, so a fresh machine with any usual layout of sources can run `make test`.

The script reads its apt directory from GP_APT_DIR and, when that is set, stops after writing the
backports source: these tests run it on made-up source trees and never touch the real system.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, Optional

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "setup-system.sh"
ADDED = "sources.list.d/golem-promise-backports.sources"

DEBIAN_SOURCES = """\
Types: deb
URIs: http://mirror.invalid/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://mirror.invalid/debian-security
Suites: bookworm-security
Components: main
"""


def run_setup(tmp_path: Path, files: Dict[str, str]) -> "subprocess.CompletedProcess[str]":
    (tmp_path / "sources.list.d").mkdir()
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    env = dict(os.environ, GP_APT_DIR=str(tmp_path))
    return subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=60)


def added(tmp_path: Path) -> Optional[Dict[str, str]]:
    path = tmp_path / ADDED
    if not path.exists():
        return None
    return dict(line.split(": ", 1) for line in path.read_text().splitlines())


def test_deb822_sources_give_the_mirror_and_key_of_the_main_suite(tmp_path: Path) -> None:
    result = run_setup(tmp_path, {"sources.list.d/debian.sources": DEBIAN_SOURCES})
    assert result.returncode == 0, result.stderr
    assert added(tmp_path) == {
        "Types": "deb",
        "URIs": "http://mirror.invalid/debian",
        "Suites": "bookworm-backports",
        "Components": "main",
        "Signed-By": "/usr/share/keyrings/debian-archive-keyring.gpg",
    }


def test_a_third_party_source_listed_first_is_not_taken_for_debian(tmp_path: Path) -> None:
    third = "Types: deb\nURIs: https://vendor.invalid/apt\nSuites: nodistro\nComponents: main\n"
    result = run_setup(
        tmp_path, {"sources.list.d/a-vendor.sources": third, "sources.list.d/debian.sources": DEBIAN_SOURCES}
    )
    assert result.returncode == 0, result.stderr
    entry = added(tmp_path)
    assert entry is not None and entry["URIs"] == "http://mirror.invalid/debian"


def test_one_line_sources_with_options_are_understood(tmp_path: Path) -> None:
    line = "deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://mirror.invalid/debian bookworm main\n"
    result = run_setup(tmp_path, {"sources.list": "# a comment\n" + line})
    assert result.returncode == 0, result.stderr
    entry = added(tmp_path)
    assert entry is not None
    assert (entry["URIs"], entry["Signed-By"]) == ("http://mirror.invalid/debian", "/usr/share/keyrings/k.gpg")


def test_commented_out_or_disabled_backports_do_not_count_as_present(tmp_path: Path) -> None:
    disabled = "Types: deb\nURIs: http://old.invalid/debian\nSuites: bookworm-backports\nEnabled: no\n"
    result = run_setup(
        tmp_path,
        {
            "sources.list": "# deb http://old.invalid/debian bookworm-backports main\n",
            "sources.list.d/old.sources": disabled,
            "sources.list.d/debian.sources": DEBIAN_SOURCES,
            "sources.list.d/backports.list.disabled": "deb http://old.invalid/debian bookworm-backports main\n",
        },
    )
    assert result.returncode == 0, result.stderr
    entry = added(tmp_path)
    assert entry is not None and entry["URIs"] == "http://mirror.invalid/debian"


def test_an_active_backports_source_is_left_as_it_is(tmp_path: Path) -> None:
    result = run_setup(
        tmp_path,
        {
            "sources.list": "deb http://other.invalid/debian bookworm-backports main\n",
            "sources.list.d/debian.sources": DEBIAN_SOURCES,
        },
    )
    assert result.returncode == 0, result.stderr
    assert added(tmp_path) is None


def test_an_inline_key_is_not_copied_as_a_path(tmp_path: Path) -> None:
    inline = DEBIAN_SOURCES.replace(
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n abc\n -----END PGP PUBLIC KEY BLOCK-----",
    )
    result = run_setup(tmp_path, {"sources.list.d/debian.sources": inline})
    assert result.returncode == 0, result.stderr
    entry = added(tmp_path)
    assert entry is not None and "Signed-By" not in entry and entry["URIs"] == "http://mirror.invalid/debian"


@pytest.mark.parametrize("files", [{}, {"sources.list": "deb http://mirror.invalid/debian bullseye main\n"}])
def test_without_a_source_for_the_release_it_fails_clearly(tmp_path: Path, files: Dict[str, str]) -> None:
    result = run_setup(tmp_path, files)
    assert result.returncode == 1
    assert "no active apt source serves 'bookworm'" in result.stderr
    assert added(tmp_path) is None
