"""Host (one SQLite database of workers and promises), Worker, and OplogEntry."""

from __future__ import annotations

import os
import threading
import uuid as _uuid
import dataclasses
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, Coroutine, Dict, List, Optional, Tuple, Type, Union

from . import _context, _core, _json
from ._ids import (
    ComponentId,
    PromiseId,
    Uuid,
    WorkerId,
    _check_utf8,
    _promise_c_form,
    _promise_id_from_c,
    _promise_id_from_core,
)
from ._listing import PromiseInfo, list_promises
from ._server import Server
from ._timeout import check_timeout

if TYPE_CHECKING:
    from .handles import GetPromiseResult, Pollable

__all__ = ["Host", "Worker", "OplogEntry", "BytesLike", "PromiseIdLike", "ComponentIdLike"]

#: Payload types accepted by ``complete_promise``.
BytesLike = Union[bytes, bytearray, memoryview]
#: A PromiseId, or its text form.
PromiseIdLike = Union[PromiseId, str]
#: What ``Host.worker`` accepts as a component id.
ComponentIdLike = Union[ComponentId, Uuid, str, _uuid.UUID]

_SYNCHRONOUS = {"full": _core.SYNCHRONOUS_FULL, "normal": _core.SYNCHRONOUS_NORMAL}


def _worker_id(worker_id: Union[WorkerId, str]) -> WorkerId:
    if isinstance(worker_id, str):
        return WorkerId.parse(worker_id)
    if not isinstance(worker_id, WorkerId):
        raise TypeError(f"worker_id must be a WorkerId or str, not {type(worker_id).__name__}")
    return worker_id


def _component_id(component_id: ComponentIdLike) -> ComponentId:
    if isinstance(component_id, ComponentId):
        return component_id
    if isinstance(component_id, Uuid):
        return ComponentId(component_id)
    if isinstance(component_id, _uuid.UUID):
        return ComponentId.from_uuid(component_id)
    if isinstance(component_id, str):
        return ComponentId.parse(component_id)
    raise TypeError(
        "component_id must be a ComponentId, Uuid, uuid.UUID or str, "
        f"not {type(component_id).__name__}"
    )


@dataclass(frozen=True)
class OplogEntry:
    """One decoded oplog entry of a worker (mirrors ``gp_oplog_entry_t``).

    ``kind`` is the entry's name as given by ``gp_oplog_kind_name`` (``"create"``,
    ``"create-promise"``, ``"complete-promise"``, ``"poll-promise"``, ``"await-promise"``,
    ``"delete-promise"``, ``"get-oplog-index"``, and a component runner's records
    ``"imported-function-invoked"``, ``"exported-function-invoked"``,
    ``"exported-function-completed"``); ``promise_id`` is None for entries that act on no
    promise.  ``result_flag``: for complete, whether the call completed the promise; for poll,
    whether it was ready.  ``function``: for a runner's records, the function recorded (a WASI
    call such as ``wall_clock::now``, or the export invoked), else None.
    """

    oplog_idx: int
    kind: str
    status: int
    timestamp_us: int
    promise_id: Optional[PromiseId]
    has_payload: bool
    result_flag: bool
    payload_len: int
    payload_hash: int
    function: Optional[str] = None

    @classmethod
    def _from_core(
        cls, t: Tuple[int, int, int, int, Tuple[int, int, str, int, bytes], bool, bool, int, int]
    ) -> OplogEntry:
        idx, kind, status, ts, pid, has_payload, flag, plen, phash = t
        promise_id = None if pid[2] == "" else _promise_id_from_core(pid)
        return cls(
            idx, _core.oplog_kind_name(kind), status, ts, promise_id, has_payload, flag, plen, phash
        )


class Worker:
    """A worker of a host, with its own oplog; get one with :meth:`Host.worker`.

    Its methods are the host functions a Golem worker calls; each appends one entry to the
    worker's oplog.  ``with worker:`` makes it the current worker of the module-level functions
    (``golem_promise.create_promise()`` etc.) in this thread or task; blocks nest.  Leaving the
    block does not close the worker.
    """

    def __init__(self, host: Host, handle: _core.Worker, worker_id: WorkerId) -> None:
        """Internal: use :meth:`Host.worker`."""
        self._host = host
        self._handle = handle
        self._worker_id = worker_id

    @property
    def worker_id(self) -> WorkerId:
        """This worker's id."""
        return self._worker_id

    @property
    def host(self) -> Host:
        """The host this worker belongs to."""
        return self._host

    @property
    def closed(self) -> bool:
        """True once :meth:`close` (or the host's close) has been called."""
        return self._handle.closed

    def create_promise(self) -> PromiseId:
        """Creates a pending promise; its ``oplog_idx`` is the index of the entry this appends."""
        # The id is always this worker's: reuse its WorkerId; the library made it, so it is valid.
        oplog_idx, c_form = self._handle.create_promise()
        return _promise_id_from_c(self._worker_id, oplog_idx, c_form)

    def await_promise(self, promise_id: PromiseIdLike, timeout: Optional[float] = None) -> bytes:
        """Waits until this worker's promise is completed and returns its payload.

        ``timeout`` is in seconds (None waits forever).  Raises TimeoutError when time runs
        out (the promise stays pending), PromiseNotFound if it does not exist or is deleted
        while waiting, PromiseNotOwned if another worker created it.  The GIL is released
        while waiting, and Ctrl-C interrupts the wait.
        """
        check_timeout(timeout)  # True is not one second; a string is not a TypeError from pybind11
        return self._handle.await_promise(_promise_c_form(promise_id), timeout)

    def await_promise_async(self, promise_id: PromiseIdLike, timeout: Optional[float] = None) -> Coroutine[Any, Any, bytes]:
        """As :meth:`await_promise`, for asyncio: awaiting it does not block the event loop.

        No thread per wait: see :mod:`golem_promise.aio` (recorded once finished; a timeout or
        a cancellation records nothing).  ``aio.await_promise`` and its JSON variant await
        through this method.
        """
        from . import aio

        return aio.worker_await(self, promise_id, timeout)

    def get_promise(self, promise_id: PromiseIdLike) -> GetPromiseResult:
        """Golem 1.3+'s get-promise: ``get()`` (this worker's recorded poll), ``subscribe()``."""
        from .handles import get_promise_of

        return get_promise_of(self, promise_id)

    def poll_promise(self, promise_id: PromiseIdLike) -> Optional[bytes]:
        """The payload if the promise is completed, None if it is pending.

        Raises PromiseNotFound if it does not exist.
        """
        return self._handle.poll_promise(_promise_c_form(promise_id))

    # The waits of this worker's pollables (golem_promise.handles): not recorded, but made by
    # the worker's code, so a subclass that checks the worker's calls overrides these too.
    def _pollable_ready(self, pollable: Pollable) -> bool:
        """``pollable.ready()`` of this worker's handle."""
        return pollable._handle.ready()

    def _pollable_block(self, pollable: Pollable, timeout: Optional[float]) -> None:
        """``pollable.block(timeout)`` of this worker's handle (timeout already checked)."""
        pollable._handle.block(timeout)

    def _pollable_wait_ready(self, pollable: Pollable, timeout: Optional[float]) -> Coroutine[Any, Any, None]:
        """``aio.wait_ready(pollable, timeout)`` of this worker's handle (timeout already checked)."""
        from . import aio

        return aio.pollable_wait(pollable, timeout)

    def complete_promise(self, promise_id: PromiseIdLike, data: BytesLike) -> bool:
        """Completes a pending promise with ``data``; True if this call completed it.

        False if it was already completed (the first payload wins).  Raises PromiseNotFound if
        it does not exist.  Any worker may complete any promise of the host.
        """
        return self._handle.complete_promise(_promise_c_form(promise_id), data)

    def delete_promise(self, promise_id: PromiseIdLike) -> None:
        """Deletes the promise, pending or completed; a no-op if it does not exist."""
        self._handle.delete_promise(_promise_c_form(promise_id))

    def get_oplog_index(self) -> int:
        """Golem's get-oplog-index: appends a no-op entry and returns its index."""
        return self._handle.get_oplog_index()

    def _replay_call(self, kind: int, function: str, data: BytesLike) -> Optional[Tuple[int, bytes]]:
        """gp_worker_replay_call, for the component runner: (oplog index, recorded bytes) while
        replaying, None when live; NonDeterminismError if the next recorded entry is another call."""
        return self._handle.replay_call(kind, function, data)

    def _record_call(self, kind: int, function: str, data: BytesLike) -> int:
        """gp_worker_record_call, for the component runner: appends the record; its oplog index."""
        return self._handle.record_call(kind, function, data)

    def restart(self) -> None:
        """Simulates a crash and restart in-process: the next calls replay from the oplog.

        Each call is then answered from the next recorded entry (same promise id, recorded
        payload) and writes nothing, until the recorded entries run out; a call that differs
        raises NonDeterminismError (docs/replay.md).  Must not race with calls on this worker.
        """
        self._handle.restart()

    @property
    def is_replaying(self) -> bool:
        """True while calls are answered from recorded oplog entries, False once live."""
        return self._handle.is_replaying()

    @property
    def oplog_position(self) -> int:
        """The oplog index of the last entry replayed or written: where execution stands."""
        return self._handle.oplog_position()

    def await_promise_json(self, promise_id: PromiseIdLike, timeout: Optional[float] = None) -> Any:
        """As :meth:`await_promise`, decoding the payload as UTF-8 JSON."""
        return _json.decode(self.await_promise(promise_id, timeout))

    def complete_promise_json(self, promise_id: PromiseIdLike, value: Any) -> bool:
        """As :meth:`complete_promise`, with ``value`` encoded as compact UTF-8 JSON."""
        return self.complete_promise(promise_id, _json.encode(value))

    def close(self) -> None:
        """Releases the worker's handle (its oplog stays in the database)."""
        self._handle.close()
        self._host._forget(self)

    def __enter__(self) -> Worker:
        """Makes this the current worker until the block ends."""
        _context.push(self)
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Restores the previous current worker."""
        _context.pop(self)

    def __repr__(self) -> str:
        return f"Worker({str(self._worker_id)!r})"


class Host:
    """A host: one SQLite database (a file, or ``":memory:"``) of workers and their promises.

    ``synchronous`` is ``"full"`` (durable across power loss, the default) or ``"normal"``
    (durable across process crashes only); ``busy_timeout`` is how many seconds a writer waits
    for another process's lock before DatabaseBusy.  Host-level calls act as an outside party:
    they write no oplog entry and may await any worker's promise.  Use as a context manager, or
    call :meth:`close`; closing the host also closes the workers it opened.
    """

    def __init__(
        self,
        path: Union[str, "os.PathLike[str]"] = ":memory:",
        *,
        synchronous: str = "full",
        busy_timeout: float = 5.0,
    ) -> None:
        """Opens (creating if needed) the host database at ``path``.

        InvalidId (a ValueError) if ``path`` contains NUL or has no UTF-8 form (a str with lone
        surrogates); StorageError, SchemaError or CorruptDatabase if the file cannot be used,
        leaving it unchanged.
        """
        path_text = os.fspath(path)
        if not isinstance(path_text, str):
            raise TypeError("path must be a str or os.PathLike[str]")
        # SQLite takes UTF-8 paths; a str with lone surrogates (an undecodable file name) has
        # none, and pybind11 would say only "incompatible function arguments".
        _check_utf8("path", path_text)
        try:
            sync = _SYNCHRONOUS[synchronous.lower()]
        except (KeyError, AttributeError):
            raise ValueError(f"synchronous must be 'full' or 'normal', not {synchronous!r}") from None
        if isinstance(busy_timeout, bool) or not isinstance(busy_timeout, (int, float)):
            raise TypeError("busy_timeout must be a number of seconds")
        if not 0 <= busy_timeout <= 2_000_000:
            raise ValueError("busy_timeout must be between 0 and 2e6 seconds")
        busy_ms = max(1, round(busy_timeout * 1000))
        self._path = path_text
        self._handle = _core.Host(path_text, sync, busy_ms)
        self._lock = threading.Lock()
        self._workers: Dict[WorkerId, Worker] = {}

    @property
    def path(self) -> str:
        """The database path given to the constructor."""
        return self._path

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._handle.closed

    def worker(self, component_id: ComponentIdLike, worker_name: str, *, live: bool = False) -> Worker:
        """The worker ``component_id/worker_name``, created (with oplog entry 1) if needed.

        Raises InvalidId if ``worker_name`` breaks Golem's rule (1 to 100 of
        ``A-Z a-z 0-9 _ -``, not starting with ``-``).  The same Worker object is returned for
        the same id until it is closed.

        An existing worker with recorded calls is opened in replay, as Golem restarts a worker;
        ``live=True`` skips replay and continues at the end of its oplog
        (``GP_WORKER_OPEN_LIVE``), as a tool that adds calls to a worker does.  ``live`` applies
        when this call opens the handle: an already open Worker is returned as it is.
        """
        if not isinstance(worker_name, str):
            raise TypeError(f"worker_name must be a str, not {type(worker_name).__name__}")
        _check_utf8("worker_name", worker_name)
        _core.worker_name_validate(worker_name)
        worker_id = WorkerId(_component_id(component_id), worker_name)
        with self._lock:
            worker = self._workers.get(worker_id)
            if worker is None or worker.closed:
                handle = self._handle.open_worker(worker_id._as_tuple(), bool(live))
                worker = Worker(self, handle, worker_id)
                self._workers[worker_id] = worker
            return worker

    def complete_promise(self, promise_id: PromiseIdLike, data: BytesLike) -> bool:
        """Completes a pending promise as an outside party; True if this call completed it.

        False if it was already completed (first payload wins); PromiseNotFound if it does not
        exist.
        """
        return self._handle.complete_promise(_promise_c_form(promise_id), data)

    def poll_promise(self, promise_id: PromiseIdLike) -> Optional[bytes]:
        """The payload if completed, None if pending; PromiseNotFound if it does not exist."""
        return self._handle.poll_promise(_promise_c_form(promise_id))

    def await_promise(self, promise_id: PromiseIdLike, timeout: Optional[float] = None) -> bytes:
        """Waits for any worker's promise and returns its payload (see Worker.await_promise)."""
        check_timeout(timeout)  # True is not one second; a string is not a TypeError from pybind11
        return self._handle.await_promise(_promise_c_form(promise_id), timeout)

    def await_promise_async(self, promise_id: PromiseIdLike, timeout: Optional[float] = None) -> Coroutine[Any, Any, bytes]:
        """As :meth:`await_promise`, for asyncio: awaiting it does not block the event loop.

        No thread per wait: see :mod:`golem_promise.aio`.  Records nothing.
        """
        from . import aio

        return aio.await_promise(promise_id, timeout, host=self)

    def get_promise(self, promise_id: PromiseIdLike) -> GetPromiseResult:
        """Golem 1.3+'s get-promise as the outside party: ``get()`` and ``subscribe()``, unrecorded."""
        from .handles import get_promise_of

        return get_promise_of(self, promise_id)

    def delete_promise(self, promise_id: PromiseIdLike) -> None:
        """Deletes the promise, waking its waiters with PromiseNotFound; idempotent."""
        self._handle.delete_promise(_promise_c_form(promise_id))

    def await_promise_json(self, promise_id: PromiseIdLike, timeout: Optional[float] = None) -> Any:
        """As :meth:`await_promise`, decoding the payload as UTF-8 JSON."""
        return _json.decode(self.await_promise(promise_id, timeout))

    def complete_promise_json(self, promise_id: PromiseIdLike, value: Any) -> bool:
        """As :meth:`complete_promise`, with ``value`` encoded as compact UTF-8 JSON."""
        return self.complete_promise(promise_id, _json.encode(value))

    def oplog(self, worker_id: Union[WorkerId, str]) -> List[OplogEntry]:
        """Every entry of the worker's oplog, index 1 first.

        Raises WorkerNotFound if the host has no such worker, CorruptDatabase if an entry fails
        verification.
        """
        entries = self._oplog_entries(worker_id)
        recorded = {"imported-function-invoked", "exported-function-invoked", "exported-function-completed"}
        for i, e in enumerate(entries):
            if e.kind in recorded:
                entries[i] = dataclasses.replace(e, function=self._oplog_call(worker_id, e.oplog_idx)[0])
        return entries

    def _oplog_entries(self, worker_id: Union[WorkerId, str]) -> List[OplogEntry]:
        """The worker's entries without the function of its recorded calls (one read fewer each)."""
        return [OplogEntry._from_core(e) for e in self._handle.oplog(_worker_id(worker_id)._as_tuple())]

    def _oplog_call(self, worker_id: Union[WorkerId, str], oplog_idx: int) -> Tuple[str, bytes]:
        """The function and bytes of a recorded call (gp_host_oplog_read_call)."""
        function, data = self._handle.oplog_read_call(_worker_id(worker_id)._as_tuple(), oplog_idx)
        return function.decode("utf-8", "replace"), data

    def list_promises(
        self, worker_id: Optional[Union[WorkerId, str]] = None, state: Optional[str] = None
    ) -> List[PromiseInfo]:
        """The host's existing promises (deleted ones are gone), by worker then oplog index.

        ``worker_id`` limits the list to one worker (WorkerNotFound if the host has none such);
        ``state`` is ``"pending"``, ``"completed"`` or None for both.  A read-only snapshot.
        """
        wid = None if worker_id is None else _worker_id(worker_id)
        return list_promises(self._handle, wid, state)

    def serve(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token: Optional[str] = None,
        max_body_bytes: Optional[int] = None,
        threads: Optional[int] = None,
        request_timeout: Optional[float] = None,
        idle_timeout: Optional[float] = None,
    ) -> Server:
        """Serves Golem's REST completion endpoint for this host over HTTP (docs/http.md).

        Listens on ``host`` (default 127.0.0.1: local connections only) and ``port`` (0 = an
        ephemeral one; read it from ``Server.port`` / ``Server.url``).  With ``token`` set every
        request needs ``Authorization: Bearer <token>``, else 401.  ``max_body_bytes`` (default
        64 MiB) bounds request bodies (413 beyond); ``threads`` (default 64, at most 1024,
        started as needed) bound the GETs of a file host's promises waiting for its store at once
        (completions are committed in batches; connections are served by one I/O thread per
        core, however many are open).  A request must arrive whole
        within ``request_timeout`` seconds of its first byte (default 10; 408 otherwise, and an
        answer the client does not take in that time is abandoned), and a keep-alive connection
        closes after ``idle_timeout`` seconds without a request (default 2), so slow or silent
        clients hold a thread for a bounded time; both are more than 0 and at most 3600
        (ValueError otherwise).  The socket is bound before this returns; StorageError if it
        cannot be (port in use, unknown address).  Close the returned Server, or use it with
        ``with``.
        """
        return Server._start(
            self,
            self._handle,
            host,
            port,
            token=token,
            max_body_bytes=max_body_bytes,
            threads=threads,
            request_timeout=request_timeout,
            idle_timeout=idle_timeout,
        )

    def close(self) -> None:
        """Closes the workers this host opened, then the host.  Calling it again does nothing."""
        with self._lock:
            workers = list(self._workers.values())
            self._workers.clear()
        for worker in workers:
            worker._handle.close()
        self._handle.close()

    def _forget(self, worker: Worker) -> None:
        with self._lock:
            if self._workers.get(worker.worker_id) is worker:
                del self._workers[worker.worker_id]

    def __enter__(self) -> Host:
        """Returns the host itself."""
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Closes the host."""
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<golem_promise.Host {self._path!r}{state}>"
