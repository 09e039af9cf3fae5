"""golem-promise: Golem's promise API (golem:api/host) as a local library backed by SQLite.

A worker creates a promise, hands its id to someone else, awaits it, and resumes with the bytes
passed to complete it::

    from golem_promise import create_promise, await_promise, complete_promise

    promise_id = create_promise()
    complete_promise(promise_id, b"hello")      # usually another thread, process or service
    assert await_promise(promise_id) == b"hello"

The module-level functions act for the current worker (see :func:`current_worker`); use
:class:`Host` and :meth:`Host.worker` for explicit databases and workers.
"""

from __future__ import annotations

from . import _core
from ._api import (
    DEFAULT_WORKER_NAME,
    await_promise,
    await_promise_async,
    await_promise_json,
    complete_promise,
    complete_promise_json,
    create_promise,
    current_worker,
    default_host,
    delete_promise,
    get_oplog_index,
    poll_promise,
)
from ._errors import (
    CorruptDatabase,
    DatabaseBusy,
    GolemPromiseError,
    InternalError,
    InvalidId,
    NonDeterminismError,
    PayloadTooLarge,
    PromiseNotFound,
    PromiseNotOwned,
    SchemaError,
    StorageError,
    WorkerConflict,
    ListenError,
    OplogEntryNotFound,
    WorkerNotFound,
)
from ._host import Host, OplogEntry, Server, Worker
from ._listing import PromiseInfo
from ._ids import ComponentId, PromiseId, Uuid, WorkerId
from ._host_module import install_host_module, uninstall_host_module
from .handles import GetPromiseResult, Pollable, PromiseResult, get_promise
from ._version import __version__

#: Version of the linked C library ("MAJOR.MINOR.PATCH").
LIBRARY_VERSION: str = _core.VERSION
#: Largest payload accepted, in bytes.
MAX_PAYLOAD: int = _core.MAX_PAYLOAD
#: Longest worker name Golem accepts.
WORKER_NAME_MAX: int = _core.WORKER_NAME_MAX

__all__ = [
    "Uuid",
    "ComponentId",
    "WorkerId",
    "PromiseId",
    "Host",
    "Worker",
    "OplogEntry",
    "PromiseInfo",
    "Server",
    "create_promise",
    "get_promise",
    "GetPromiseResult",
    "PromiseResult",
    "Pollable",
    "install_host_module",
    "uninstall_host_module",
    "await_promise",
    "await_promise_async",
    "poll_promise",
    "complete_promise",
    "delete_promise",
    "get_oplog_index",
    "await_promise_json",
    "complete_promise_json",
    "current_worker",
    "default_host",
    "DEFAULT_WORKER_NAME",
    "GolemPromiseError",
    "PromiseNotFound",
    "InvalidId",
    "StorageError",
    "CorruptDatabase",
    "DatabaseBusy",
    "PromiseNotOwned",
    "PayloadTooLarge",
    "SchemaError",
    "NonDeterminismError",
    "WorkerNotFound",
    "WorkerConflict",
    "ListenError",
    "OplogEntryNotFound",
    "InternalError",
    "LIBRARY_VERSION",
    "MAX_PAYLOAD",
    "WORKER_NAME_MAX",
    "__version__",
]
