"""The compiled-code cache: a component compiled once is deserialized on later starts.

Entries are keyed by the component file's SHA-256 and the wasmtime version and platform, so a
changed component or an upgraded wasmtime never meets stale code.  Compiled code is trusted
machine code: the folder is created private (0700) and only ever written by this module, with
a write to a temporary file and an atomic rename so that a concurrent reader sees all or nothing.
"""

from __future__ import annotations

import os
import platform
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Optional

__all__ = ["CACHE_ENV", "default_cache_dir", "cache_key", "read_cached", "write_cached", "wasmtime_version"]

#: Environment variable naming the cache folder (overrides the default below).
CACHE_ENV = "GOLEM_PROMISE_CACHE_DIR"


def wasmtime_version() -> str:
    """The installed wasmtime binding's version (the compiled code's format follows it)."""
    try:
        return metadata.version("wasmtime")
    except metadata.PackageNotFoundError:  # pragma: no cover - wasmtime imported from a checkout
        return "unknown"


def default_cache_dir() -> Path:
    """``$GOLEM_PROMISE_CACHE_DIR``, else ``$XDG_CACHE_HOME/golem-promise/components``, else ``~/.cache/...``."""
    explicit = os.environ.get(CACHE_ENV)
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "golem-promise" / "components"


def cache_key(sha256_hex: str) -> str:
    """The cache file name for a component (the SHA-256 of its bytes) under this wasmtime and platform."""
    version = wasmtime_version().replace(os.sep, "_")
    return f"{sha256_hex}-wasmtime-{version}-{platform.machine()}.cwasm"


def read_cached(folder: Path, key: str) -> Optional[Path]:
    """The cached file for ``key`` if it exists (the caller deserializes and handles a bad one)."""
    path = folder / key
    return path if path.is_file() else None


def write_cached(folder: Path, key: str, compiled: bytes) -> Optional[Path]:
    """Stores ``compiled`` under ``key``; None (and no error) if the folder cannot be written.

    A cache that cannot be written costs a compile next time, never a failed run.
    """
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".cwasm", dir=folder)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(compiled)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, folder / key)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return folder / key
    except OSError:
        return None
