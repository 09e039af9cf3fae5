"""Golem's Python API as module-level functions acting for the current worker.

The current worker is the innermost ``with worker:`` block of this thread or asyncio task; with
none, a default worker (component nil UUID, name ``"default"``) of a lazily created in-memory
host serves, so the functions work in a fresh interpreter.
"""

from __future__ import annotations

import threading
from typing import Any, Coroutine, Optional

from . import _context
from ._host import BytesLike, Host, PromiseIdLike, Worker
from ._ids import ComponentId, PromiseId, Uuid

__all__ = [
    "current_worker",
    "default_host",
    "create_promise",
    "await_promise",
    "await_promise_async",
    "poll_promise",
    "complete_promise",
    "delete_promise",
    "get_oplog_index",
    "await_promise_json",
    "complete_promise_json",
    "DEFAULT_WORKER_NAME",
]

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
    worker = _context.get_current()
    return worker if worker is not None else _default()


def create_promise() -> PromiseId:
    """Creates a pending promise owned by the current worker."""
    return current_worker().create_promise()


def await_promise(promise_id: PromiseIdLike, timeout: Optional[float] = None) -> bytes:
    """Waits for the current worker's promise and returns its payload (see Worker.await_promise)."""
    return current_worker().await_promise(promise_id, timeout)


def await_promise_async(promise_id: PromiseIdLike, timeout: Optional[float] = None) -> Coroutine[Any, Any, bytes]:
    """As :func:`await_promise`, for asyncio (the worker is the current one of the calling task)."""
    return current_worker().await_promise_async(promise_id, timeout)


def poll_promise(promise_id: PromiseIdLike) -> Optional[bytes]:
    """The promise's payload if completed, None if pending."""
    return current_worker().poll_promise(promise_id)


def complete_promise(promise_id: PromiseIdLike, data: BytesLike) -> bool:
    """Completes a pending promise; True if this call completed it, False if already completed."""
    return current_worker().complete_promise(promise_id, data)


def delete_promise(promise_id: PromiseIdLike) -> None:
    """Deletes the promise; a no-op if it does not exist."""
    current_worker().delete_promise(promise_id)


def get_oplog_index() -> int:
    """The current worker's oplog position (appends a no-op entry, as Golem does)."""
    return current_worker().get_oplog_index()


def await_promise_json(promise_id: PromiseIdLike, timeout: Optional[float] = None) -> Any:
    """As :func:`await_promise`, decoding the payload as UTF-8 JSON."""
    return current_worker().await_promise_json(promise_id, timeout)


def complete_promise_json(promise_id: PromiseIdLike, value: Any) -> bool:
    """As :func:`complete_promise`, with ``value`` encoded as compact UTF-8 JSON."""
    return current_worker().complete_promise_json(promise_id, value)
