#!/usr/bin/env python3
"""Builds a Python component with componentize-py, cached by the hash of its sources.

    build-component.py --wit WIT_DIR --world WORLD --app APP_DIR [--module app] [--out-dir DIR]

Prints the path of the built component.  The output is named after the world and a hash of
everything that goes into it (the WIT folder, the app folder, the world, the module name and
componentize-py's version), so an unchanged source is never built twice and a changed one
never reuses a stale file.  componentize-py writes __pycache__ into the app folder, so the
build runs on a copy.  Built components are build outputs: keep DIR out of version control
(the default, build/components, is ignored).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def source_hash(wit: Path, app: Path, world: str, module: str) -> str:
    """The hash naming a build: every source file's path and bytes, and the tools' versions."""
    h = hashlib.sha256()
    h.update(f"componentize-py {metadata.version('componentize-py')}\0{world}\0{module}\0".encode())
    for base in (wit, app):
        for path in sorted(p for p in base.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            h.update(str(path.relative_to(base)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build(wit: Path, world: str, app: Path, module: str, out_dir: Path) -> Path:
    """The built component's path, building it if this source has not been built before."""
    out = out_dir / f"{world}-{source_hash(wit, app, world, module)}.wasm"
    if out.is_file():
        return out
    out_dir.mkdir(parents=True, exist_ok=True)
    tool = Path(sys.executable).parent / "componentize-py"
    command = [str(tool) if tool.exists() else "componentize-py"]
    with tempfile.TemporaryDirectory(prefix="gp-component-") as tmp:
        src = Path(tmp) / "app"
        shutil.copytree(app, src, ignore=shutil.ignore_patterns("__pycache__"))
        partial = Path(tmp) / "out.wasm"
        command += ["-d", str(wit.resolve()), "-w", world, "componentize", "-p", str(src), module, "-o", str(partial)]
        done = subprocess.run(command, cwd=tmp, capture_output=True, text=True)
        if done.returncode != 0:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"build-component: componentize-py failed for world {world} ({app})")
        shutil.move(str(partial), out.with_suffix(".partial"))
        os.replace(out.with_suffix(".partial"), out)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wit", required=True, type=Path, help="WIT folder (with deps/)")
    parser.add_argument("--world", required=True, help="world to build")
    parser.add_argument("--app", required=True, type=Path, help="folder of the Python sources")
    parser.add_argument("--module", default="app", help="module defining the exports (default app)")
    parser.add_argument("--out-dir", type=Path, default=ROOT / "build" / "components", help="where built components go")
    args = parser.parse_args()
    print(build(args.wit, args.world, args.app, args.module, args.out_dir))


if __name__ == "__main__":
    main()
