"""The worker the module-level functions act for: the innermost ``with worker:`` block of this
thread or asyncio task, else a default worker (component nil UUID, name ``"default"``) of a
lazily created in-memory host, so that the functions work in a fresh interpreter.

Below handles, aio and the module-level API, which all act for the current worker.
"""

from __future__ import annotations

import threading
from typing import Optional

from ._host import Host, Worker, current_or_none
from ._ids import ComponentId, Uuid

__all__ = ["current_worker", "default_host", "DEFAULT_WORKER_NAME"]

#: Name of the worker that serves when no ``with worker:`` block is active.
DEFAULT_WORKER_NAME = "default"

_default_lock = threading.Lock()
_default_host: Optional[Host] = None
_default_worker: Optional[Worker] = None


def default_host() -> Host:
    """The process-wide default in-memory host, created on first use."""
    global _default_host
    with _default_lock:
        if _default_host is None or _default_host.closed:
            _default_host = Host(":memory:")
        return _default_host


def _default() -> Worker:
    global _default_worker
    worker = _default_worker
    if worker is not None and not worker.closed:
        return worker
    host = default_host()
    with _default_lock:
        if _default_worker is None or _default_worker.closed:
            _default_worker = host.worker(ComponentId(Uuid.nil()), DEFAULT_WORKER_NAME)
        return _default_worker


def current_worker() -> Worker:
    """The worker the module-level functions act for in this thread or task."""
    worker = current_or_none()
    return worker if worker is not None else _default()
