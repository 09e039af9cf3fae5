"""The host layer's objects: Host (one SQLite database of workers and promises), Worker,
OplogEntry, the promise handles (Pollable, GetPromiseResult), the HTTP Server, and the current
worker of a ``with worker:`` block.

They refer to one another (a worker's host, a host's workers and server, a handle's worker), so
they share one module; everything they use sits below (ids, errors, the asyncio waits, the
server's options), and the modules above (handles, aio, the module-level API) import them.
"""

from __future__ import annotations

import contextvars
import os
import threading
import uuid as _uuid
import dataclasses
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Callable, Coroutine, Dict, List, Optional, Tuple, Type, Union

from . import _core, _json, _waits
from ._errors import InvalidId
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
from ._server import MAX_THREADS, MAX_TIMEOUT, _check_int, _encodable, _timeout_ms
from ._timeout import check_timeout

__all__ = [
    "Host",
    "Worker",
    "OplogEntry",
    "Server",
    "Pollable",
    "GetPromiseResult",
    "PromiseResult",
    "get_promise_of",
    "current_or_none",
    "BytesLike",
    "PromiseIdLike",
    "ComponentIdLike",
]

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
        return _worker_await(self, promise_id, timeout)

    def get_promise(self, promise_id: PromiseIdLike) -> GetPromiseResult:
        """Golem 1.3+'s get-promise: ``get()`` (this worker's recorded poll), ``subscribe()``."""
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
        return _waits.pollable_wait(pollable._handle, pollable._core_host, pollable.promise_id, timeout)

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
        _push(self)
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Restores the previous current worker."""
        _pop(self)

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
        return _host_await(self, promise_id, timeout)

    def get_promise(self, promise_id: PromiseIdLike) -> GetPromiseResult:
        """Golem 1.3+'s get-promise as the outside party: ``get()`` and ``subscribe()``, unrecorded."""
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
        64 MiB + 64 KiB: any payload up to 16 MiB) bounds request bodies (413 beyond); ``threads`` (default 64, at most 1024,
        started as needed) bound the GETs of a file host's promises waiting for its store at once
        (completions are committed in batches; connections are served by one I/O thread per
        core, however many are open).  A request must arrive whole
        within ``request_timeout`` seconds of its first byte (default 10; 408 otherwise, and an
        answer the client does not take in that time is abandoned), and a keep-alive connection
        closes after ``idle_timeout`` seconds without a request (default 2), so slow or silent
        clients hold a thread for a bounded time; both are more than 0 and at most 3600
        (ValueError otherwise).  The socket is bound before this returns; ListenError if it
        cannot be (port in use, unknown address, not permitted).  Close the returned Server, or use it with
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


async def _worker_await(worker: Worker, promise_id: PromiseIdLike, timeout: Optional[float]) -> bytes:
    # Checked when awaited, as a coroutine function's arguments are.
    pid = _promise_id(promise_id)
    check_timeout(timeout)
    return await _waits.worker_await(worker._handle, worker.host._handle, pid, timeout)


async def _host_await(host: Host, promise_id: PromiseIdLike, timeout: Optional[float]) -> bytes:
    pid = _promise_id(promise_id)
    check_timeout(timeout)
    return await _waits.host_await(host._handle, pid, timeout)


# ---------------------------------------------------------------- promise handles (golem_promise.handles)

def _promise_id(promise_id: Union[PromiseId, str]) -> PromiseId:
    if isinstance(promise_id, str):
        return PromiseId.parse(promise_id)
    if not isinstance(promise_id, PromiseId):
        raise TypeError(f"promise_id must be a PromiseId or str, not {type(promise_id).__name__}")
    return promise_id


class Pollable:
    """``subscribe()``'s pollable: ``ready()`` and ``block(timeout)``; records nothing."""

    def __init__(self, core_host: _core.Host, promise_id: PromiseId, worker: Optional[Worker] = None) -> None:
        """Internal: use :meth:`GetPromiseResult.subscribe`."""
        self._core_host = core_host
        self._promise_id = promise_id
        self._worker = worker
        self._handle = core_host.get_promise(_promise_c_form(promise_id))

    @property
    def promise_id(self) -> PromiseId:
        """The promise this pollable waits for."""
        return self._promise_id

    @property
    def worker(self) -> Optional[Worker]:
        """The worker whose handle gave this pollable out; None for a host's."""
        return self._worker

    def ready(self) -> bool:
        """True once the promise is completed or gone (never raises PromiseNotFound)."""
        if self._worker is not None:
            return self._worker._pollable_ready(self)
        return self._handle.ready()

    def block(self, timeout: Optional[float] = None) -> None:
        """Waits until :meth:`ready`; TimeoutError after ``timeout`` seconds (None: forever).

        ``timeout`` is a number of seconds (not a bool): TypeError otherwise, ValueError if
        negative.  The GIL is released while waiting and Ctrl-C interrupts it.  For asyncio use
        ``await golem_promise.aio.wait_ready(pollable)``.
        """
        check_timeout(timeout)
        if self._worker is not None:
            self._worker._pollable_block(self, timeout)
        else:
            self._handle.block(timeout)

    def close(self) -> None:
        """Releases the C handle (also done when the object is garbage collected)."""
        self._handle.close()

    def __repr__(self) -> str:
        return f"<golem_promise.Pollable {self._promise_id}>"


class GetPromiseResult:
    """Golem's ``get-promise-result``: ``get()`` and ``subscribe()`` for one promise.

    From :func:`get_promise`, :meth:`Worker.get_promise` or :meth:`Host.get_promise`.  For a
    worker's handle ``get()`` is the worker's recorded poll; for a host's it is the outside
    party's poll (not recorded).  Usable as a context manager (closes its pollables).
    """

    def __init__(self, owner: Union[Worker, Host], promise_id: PromiseId, core_host: _core.Host) -> None:
        """Internal: use :func:`get_promise`."""
        self._owner = owner
        self._promise_id = promise_id
        self._core_host = core_host
        self._pollables: list[Pollable] = []

    @property
    def promise_id(self) -> PromiseId:
        """The promise this handle reads."""
        return self._promise_id

    def get(self) -> Optional[bytes]:
        """The payload if the promise is completed, None while pending.

        PromiseNotFound if it does not exist.  A worker's handle records the call as its poll.
        """
        return self._owner.poll_promise(self._promise_id)

    def subscribe(self) -> Pollable:
        """A pollable that becomes ready once the promise is completed or gone."""
        worker = self._owner if isinstance(self._owner, Worker) else None
        pollable = Pollable(self._core_host, self._promise_id, worker)
        self._pollables.append(pollable)
        return pollable

    def close(self) -> None:
        """Closes the pollables this handle gave out."""
        for pollable in self._pollables:
            pollable.close()
        self._pollables.clear()

    def __enter__(self) -> GetPromiseResult:
        """Returns the handle itself."""
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Closes the handle's pollables."""
        self.close()

    def __repr__(self) -> str:
        return f"<golem_promise.GetPromiseResult {self._promise_id} of {self._owner!r}>"


#: The name this package's docs use for Golem's ``get-promise-result``.
PromiseResult = GetPromiseResult


def get_promise_of(owner: Union[Worker, Host], promise_id: Union[PromiseId, str]) -> GetPromiseResult:
    """``owner.get_promise(promise_id)``: a handle of a worker (recorded get) or a host."""
    pid = _promise_id(promise_id)
    core_host = owner._handle if isinstance(owner, Host) else owner.host._handle
    return GetPromiseResult(owner, pid, core_host)


class Server:
    """A running HTTP completion endpoint over a host; get one with :meth:`Host.serve`.

    It serves ``POST /v1/components/{component_id}/workers/{worker_name}/complete`` (Golem's
    REST call, body ``{"oplogIdx": N, "data": [bytes]}``), ``GET .../promises/{oplog_idx}``
    (our extension) and ``GET /healthz``; every status and body is in docs/http.md.
    Completions go through the host as the outside party and wake awaits in this process and,
    for a file host, in other processes.

    Use it as a context manager or call :meth:`close`.  The server keeps the database open
    while it runs, even if the :class:`Host` is closed first.
    """

    def __init__(self, host: Host, handle: _core.Server, token: Optional[str]) -> None:
        """Internal: use :meth:`Host.serve`."""
        self._host = host
        self._handle = handle
        self._token = token

    @classmethod
    def _start(
        cls,
        host: Host,
        handle: _core.Host,
        address: str,
        port: int,
        *,
        token: Optional[str],
        max_body_bytes: Optional[int],
        threads: Optional[int],
        request_timeout: Optional[float] = None,
        idle_timeout: Optional[float] = None,
    ) -> Server:
        """Checks the arguments and starts the C server (``gp_server_start``)."""
        if not isinstance(address, str):
            raise TypeError(f"host must be a str, not {type(address).__name__}")
        if address == "":
            raise ValueError("host must not be empty (use '127.0.0.1' for local connections only)")
        if not _encodable(address):
            raise ValueError(f"host {address!r} is not valid text (it has lone surrogates)")
        _check_int("port", port, 0, 65535)
        if token is not None:
            if not isinstance(token, str):
                raise TypeError(f"token must be a str or None, not {type(token).__name__}")
            if token == "":
                raise ValueError("token must not be empty (pass None for no authentication)")
            if not token.isascii():  # the core's own check, made here for text C cannot receive
                raise InvalidId("server token must be visible ASCII characters (no spaces or control characters)")
        body = 0 if max_body_bytes is None else _check_int("max_body_bytes", max_body_bytes, 1, 2**64 - 1)
        nthreads = 0 if threads is None else _check_int("threads", threads, 1, MAX_THREADS)
        request_ms = 0 if request_timeout is None else _timeout_ms("request_timeout", request_timeout)
        idle_ms = 0 if idle_timeout is None else _timeout_ms("idle_timeout", idle_timeout)
        return cls(host, handle.serve(address, port, token, body, nthreads, request_ms, idle_ms), token)

    @property
    def url(self) -> str:
        """The base URL, ``"http://127.0.0.1:PORT"`` (``"http://[addr]:PORT"`` for IPv6)."""
        return self._handle.url

    @property
    def port(self) -> int:
        """The TCP port listened on (the one the system chose when ``port=0``)."""
        return self._handle.port

    @property
    def token(self) -> Optional[str]:
        """The bearer token requests must carry, or None when no authentication is required."""
        return self._token

    @property
    def host(self) -> Host:
        """The host whose promises this server completes."""
        return self._host

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._handle.stopped

    def close(self) -> None:
        """Stops the server: no new connections, open ones closed, threads joined.

        It waits for no client: a request still arriving is cut short and idle connections are
        closed at once; only completions already being handled finish (their commits are not
        interrupted).  Calling it again does nothing.
        """
        self._handle.stop()

    def __enter__(self) -> Server:
        """Returns the server itself."""
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Closes the server."""
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        auth = " token" if self._token is not None else ""
        return f"<golem_promise.Server {self.url}{auth}{state}>"


# ---------------------------------------------------------------- the current worker
# A ContextVar, so each thread and each asyncio task sees its own (``with worker:``).
_current: contextvars.ContextVar[Optional[Worker]] = contextvars.ContextVar(
    "golem_promise_current_worker", default=None
)
# The tokens of the enclosing `with worker:` blocks of this context, innermost last.  Kept in a
# ContextVar too, so interleaved tasks and threads never reset one another's tokens.
_tokens: contextvars.ContextVar[Tuple[contextvars.Token[Optional[Worker]], ...]] = (
    contextvars.ContextVar("golem_promise_current_worker_tokens", default=())
)


#: The worker of the innermost ``with worker:`` block in this context, if any.  The ContextVar's
#: own ``get`` (no Python frame): every module-level call asks it.
current_or_none: Callable[[], Optional[Worker]] = _current.get


def _push(worker: Worker) -> None:
    """Makes ``worker`` the current worker until the matching :func:`pop`."""
    token = _current.set(worker)
    _tokens.set(_tokens.get() + (token,))


def _pop(worker: Worker) -> None:
    """Restores the worker that was current before the matching :func:`push`."""
    tokens = _tokens.get()
    if not tokens or _current.get() is not worker:
        raise RuntimeError("Worker context exited out of order (or in another context)")
    _tokens.set(tokens[:-1])
    _current.reset(tokens[-1])
