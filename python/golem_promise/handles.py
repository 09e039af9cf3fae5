"""Promise handles, Golem 1.3+ style: ``get_promise(id)`` → ``get()`` and ``subscribe()``.

Newer Golem hosts replace await/poll with ``get-promise``, which returns a ``get-promise-result``
resource: ``get()`` gives the payload or None, ``subscribe()`` a WASI pollable whose ``ready()``
and ``block()`` wait for the promise.  The same shapes here::

    result = golem_promise.get_promise(promise_id)   # the current worker's handle
    pollable = result.subscribe()
    pollable.block(timeout=5.0)                      # TimeoutError if still pending by then
    payload = result.get()                           # bytes (None while pending)

What is recorded in a worker's oplog: ``get()`` of a worker's handle is the worker's poll
(``poll-promise`` entry, replayed like one).  ``get_promise`` itself, ``ready()`` and
``block()`` are host-level checks that record nothing: in Golem they are the host waiting on a
pollable, not a call whose result the worker's code depends on.  A pollable is ready once the
promise is completed *or gone* (deleted, never created): there is nothing left to wait for, and
``get()`` then raises PromiseNotFound.

A worker's pollable still waits *as that worker*: ``ready()``, ``block()`` and
``aio.wait_ready`` run through the worker's ``_pollable_ready`` / ``_pollable_block`` /
``_pollable_wait_ready``, which ``golem_promise.testing.check_replay`` overrides to check them
like the worker's other host calls.
"""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Optional, Type, Union

from . import _core
from ._ids import PromiseId, _promise_c_form
from ._timeout import check_timeout

if TYPE_CHECKING:
    from ._host import Host, Worker

__all__ = ["GetPromiseResult", "PromiseResult", "Pollable", "get_promise", "get_promise_of"]


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
        from ._host import Worker

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
    from ._host import Host

    pid = _promise_id(promise_id)
    core_host = owner._handle if isinstance(owner, Host) else owner.host._handle
    return GetPromiseResult(owner, pid, core_host)


def get_promise(promise_id: Union[PromiseId, str]) -> GetPromiseResult:
    """Golem 1.3+'s get-promise for the current worker (see :func:`golem_promise.current_worker`).

    Records nothing by itself; ``get()`` records the worker's poll.  The handle is lazy: a
    promise that does not exist gives a handle whose pollable is ready at once and whose
    ``get()`` raises PromiseNotFound.
    """
    from ._api import current_worker

    return get_promise_of(current_worker(), promise_id)
