"""Exceptions raised by golem_promise, and the one table mapping C status codes to them."""

from __future__ import annotations

import re
from typing import ClassVar, Dict, Optional, Type

from . import _core

__all__ = [
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
    "error_from_status",
]


class GolemPromiseError(Exception):
    """Base class of every error golem-promise raises (timeouts raise the builtin TimeoutError).

    ``code`` is the C status code (a negative ``GP_E*`` value from golem_promise.h) and
    ``message`` the library's message for the failure.
    """

    default_code: ClassVar[int] = _core.EINTERNAL

    code: int
    message: str

    def __init__(self, message: str = "", code: Optional[int] = None) -> None:
        """Creates the error with a message and a status code (the class's own by default)."""
        super().__init__(message)
        self.message = message
        self.code = type(self).default_code if code is None else code


class PromiseNotFound(GolemPromiseError):
    """The promise does not exist: never created, or deleted (``GP_ENOTFOUND``)."""

    default_code = _core.ENOTFOUND


class InvalidId(GolemPromiseError, ValueError):
    """A malformed id, an out-of-range field, or a worker name Golem rejects (``GP_EINVAL``)."""

    default_code = _core.EINVAL


class StorageError(GolemPromiseError):
    """The database could not be read or written: disk, permissions (``GP_EIO``)."""

    default_code = _core.EIO


class CorruptDatabase(GolemPromiseError):
    """Stored data is damaged, e.g. an oplog entry fails verification (``GP_ECORRUPT``)."""

    default_code = _core.ECORRUPT


class DatabaseBusy(GolemPromiseError):
    """The database stayed locked by another process past the busy timeout (``GP_EBUSY``)."""

    default_code = _core.EBUSY


class PromiseNotOwned(GolemPromiseError):
    """A worker awaited a promise that another worker created (``GP_ENOTOWNER``, Golem 1.3+)."""

    default_code = _core.ENOTOWNER


class PayloadTooLarge(GolemPromiseError):
    """A payload is larger than ``golem_promise.MAX_PAYLOAD`` bytes (``GP_ETOOBIG``)."""

    default_code = _core.ETOOBIG


class SchemaError(GolemPromiseError):
    """Not a golem-promise database, or one of a newer schema (``GP_ESCHEMA``)."""

    default_code = _core.ESCHEMA


class NonDeterminismError(GolemPromiseError):
    """Replay found a host call that differs from the recorded one (``GP_ENONDETERMINISM``).

    Parsed from the library's message (``"... at oplog index N: recorded X, attempted Y"``):
    ``oplog_idx`` is the index of the recorded entry the call was matched with, ``recorded``
    and ``attempted`` describe both calls (e.g. ``"complete-promise(<promise id>, 3 bytes)"``).
    Each is None if the message does not have that form.
    """

    default_code = _core.ENONDETERMINISM

    oplog_idx: Optional[int]
    recorded: Optional[str]
    attempted: Optional[str]

    def __init__(self, message: str = "", code: Optional[int] = None) -> None:
        """Creates the error and parses the oplog index and both calls from ``message``."""
        super().__init__(message, code)
        match = _NON_DETERMINISM_TEXT.search(message)
        self.oplog_idx = int(match.group(1)) if match else None
        self.recorded = match.group(2) if match else None
        self.attempted = match.group(3) if match else None


#: The shape of core/replay.cpp's message (worker names and ids never contain ", attempted ").
_NON_DETERMINISM_TEXT = re.compile(r"at oplog index (\d+): recorded (.*?), attempted (.*)\Z", re.S)


class WorkerNotFound(GolemPromiseError):
    """The host has no such worker (``GP_EWORKERNOTFOUND``)."""

    default_code = _core.EWORKERNOTFOUND


class WorkerConflict(GolemPromiseError):
    """Another handle of the same worker appended to its oplog (``GP_ECONFLICT``).

    A Golem worker runs in one place at a time, so two handles of one worker (two ``Host``
    objects on one file, or two processes) must not both make calls: their entries would
    interleave in one oplog and a restart would replay the wrong results.  The handle that
    finds the oplog longer than it left it gets this error and writes nothing; its
    ``restart()`` replays the oplog as it now is.
    """

    default_code = _core.ECONFLICT


class ListenError(GolemPromiseError, OSError):
    """A server could not listen on its address: port in use, unknown address, not permitted (``GP_ELISTEN``)."""

    default_code = _core.ELISTEN


class OplogEntryNotFound(GolemPromiseError, LookupError):
    """The worker's oplog has no entry at that index (``GP_ENOENTRY``)."""

    default_code = _core.ENOENTRY


class InternalError(GolemPromiseError):
    """A bug in golem-promise; the message says where (``GP_EINTERNAL``)."""

    default_code = _core.EINTERNAL


#: The one mapping from C status codes to Python exception types.
_STATUS_TO_ERROR: Dict[int, Type[Exception]] = {
    _core.EINVAL: InvalidId,
    _core.ENOTFOUND: PromiseNotFound,
    _core.ETIMEOUT: TimeoutError,
    _core.ECORRUPT: CorruptDatabase,
    _core.EIO: StorageError,
    _core.ENOMEM: MemoryError,
    _core.EBUSY: DatabaseBusy,
    _core.ENOTOWNER: PromiseNotOwned,
    _core.ETOOBIG: PayloadTooLarge,
    _core.ESCHEMA: SchemaError,
    _core.ENONDETERMINISM: NonDeterminismError,
    _core.EWORKERNOTFOUND: WorkerNotFound,
    _core.ECONFLICT: WorkerConflict,
    _core.ELISTEN: ListenError,
    _core.ENOENTRY: OplogEntryNotFound,
    _core.EINTERNAL: InternalError,
}


def error_from_status(code: int, message: str) -> Exception:
    """The exception for a failing C status ``code`` with the library's ``message``.

    Called by ``_core`` for every failing call.  Unknown codes give a plain GolemPromiseError.
    An empty message is replaced by ``gp_errstr(code)``.
    """
    text = message or _core.errstr(code)
    cls = _STATUS_TO_ERROR.get(code, GolemPromiseError)
    if issubclass(cls, GolemPromiseError):
        return cls(text, code)
    return cls(text)
