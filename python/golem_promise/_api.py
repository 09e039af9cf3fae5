"""Golem's Python API as module-level functions acting for the current worker.

The current worker is the innermost ``with worker:`` block of this thread or asyncio task; with
none, a default worker (component nil UUID, name ``"default"``) of a lazily created in-memory
host serves, so the functions work in a fresh interpreter (``_current``).
"""

from __future__ import annotations

from typing import Any, Coroutine, Optional

from ._current import DEFAULT_WORKER_NAME, current_worker, default_host
from ._host import BytesLike, PromiseIdLike
from ._ids import PromiseId

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
