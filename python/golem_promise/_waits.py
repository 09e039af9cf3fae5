"""The asyncio waits' machinery under :mod:`golem_promise.aio`: one change-feed watcher per
(event loop, host), its waiters, and the waits of a core worker, host or promise handle.

It works on the extension's handles only, so the host layer (``Host.await_promise_async``,
``Worker.await_promise_async``, a pollable's ``aio.wait_ready``) uses it without importing the
asyncio module above it; how it works is told in :mod:`golem_promise.aio`.
"""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any, Callable, Dict, Optional, Tuple

from . import _core
from ._errors import PromiseNotFound
from ._ids import PromiseId, _promise_c_form

__all__ = ["TICK_SECONDS", "SCAN_PACE", "waiting_count", "worker_await", "host_await", "pollable_wait"]

#: Interval of each watcher's safety tick: it notices closed hosts and workers, and changes a
#: missed wake-up would hide (another event loop drained the shared change feed first).
TICK_SECONDS = 0.1

#: A scan of the waiting promises costs time in proportion to their number (~0.3 µs each), and
#: a change of the host (any promise of it) asks for one.  After a scan that took d seconds the
#: next one runs no sooner than SCAN_PACE * d later, so scans take at most 1 / (1 + SCAN_PACE)
#: of the loop however fast changes arrive: a steady stream of completions against ten thousand
#: waiters delays their wake-ups by a few milliseconds instead of saturating the loop.
SCAN_PACE = 3.0

_PENDING = _core.PROMISE_PENDING
_COMPLETED = _core.PROMISE_COMPLETED

# finish(state, payload): the awaited value once the promise is no longer pending (may raise).
_Finish = Callable[[int, Optional[bytes]], Any]


class _Waiter:
    """One waiting coroutine: its promise handle, future and how to finish it."""

    __slots__ = ("handle", "future", "finish", "worker")

    def __init__(
        self,
        handle: _core.Promise,
        future: asyncio.Future[Any],
        finish: _Finish,
        worker: Optional[_core.Worker],
    ) -> None:
        self.handle = handle
        self.future = future
        self.finish = finish
        self.worker = worker


def _deliver(waiter: _Waiter, state: int, payload: Optional[bytes]) -> None:
    """Finishes a waiter whose promise is no longer pending (once; never if it was cancelled)."""
    if waiter.future.done():  # cancelled or timed out meanwhile: record nothing
        return
    try:
        value = waiter.finish(state, payload)
    except BaseException as error:  # noqa: BLE001 - handed to the awaiting coroutine
        if isinstance(error, (KeyboardInterrupt, SystemExit)):
            raise
        waiter.future.set_exception(error)
    else:
        waiter.future.set_result(value)


class _Watcher:
    """The change-feed registration of one host in one event loop, and its waiters."""

    def __init__(self, key: Tuple[int, int], loop: asyncio.AbstractEventLoop, host: _core.Host) -> None:
        self.key = key
        self.loop = loop
        self.host = host
        self.waiters: Dict[_Waiter, None] = {}  # insertion-ordered set
        self.workers: Dict[_core.Worker, int] = {}  # distinct workers of worker-scoped waiters
        self.fd = host.change_fd()
        # Read before any waiter's first check: a change after it moves the counter.
        self.counter = host.change_counter()
        self.reader = True
        try:
            loop.add_reader(self.fd, self._on_change)
        except NotImplementedError:  # a loop without add_reader: the tick does the work
            self.reader = False
        self.tick: Optional[asyncio.TimerHandle] = loop.call_later(self._interval(), self._on_tick)
        # Scan pacing (SCAN_PACE): when the next scan may start, and the one waiting for it.
        self.next_scan = 0.0
        self.paced: Optional[asyncio.TimerHandle] = None

    def _interval(self) -> float:
        return TICK_SECONDS if self.reader else TICK_SECONDS / 5

    # -------------------------------------------------------------- waiters
    def add(self, waiter: _Waiter) -> None:
        self.waiters[waiter] = None
        if waiter.worker is not None:
            self.workers[waiter.worker] = self.workers.get(waiter.worker, 0) + 1

    def discard(self, waiter: _Waiter) -> None:
        """Removes a waiter; the last one out unregisters the feed before handles close."""
        if self.waiters.pop(waiter, False) is not False:
            if waiter.worker is not None:
                left = self.workers[waiter.worker] - 1
                if left:
                    self.workers[waiter.worker] = left
                else:
                    del self.workers[waiter.worker]
        if not self.waiters:
            self._stop()
        waiter.handle.close()

    def _stop(self) -> None:
        with _registry_lock:
            if _registry.get(self.key) is self:
                del _registry[self.key]
        if self.tick is not None:
            self.tick.cancel()
            self.tick = None
        if self.paced is not None:
            self.paced.cancel()
            self.paced = None
        if self.reader:
            self.reader = False
            if not self.loop.is_closed():
                self.loop.remove_reader(self.fd)

    # -------------------------------------------------------------- wake-ups
    def _on_change(self) -> None:
        try:
            self.host.change_ack()
            counter = self.host.change_counter()
        except ValueError:  # the host was closed
            self._fail_all(ValueError("the host was closed while awaiting"))
            return
        except Exception as error:  # noqa: BLE001 - a database error reaches every waiter
            self._fail_all(error)
            return
        if counter != self.counter:
            self.counter = counter
            self._request_scan()

    def _on_tick(self) -> None:
        self.tick = None
        if not self.waiters:
            return
        if self.host.closed:
            self._fail_all(ValueError("the host was closed while awaiting"))
            return
        closed = [w for w in self.workers if w.closed]
        if closed:
            for waiter in list(self.waiters):
                if waiter.worker is not None and waiter.worker.closed and not waiter.future.done():
                    waiter.future.set_exception(ValueError("the worker was closed while awaiting"))
        try:
            counter = self.host.change_counter()
        except Exception as error:  # noqa: BLE001
            self._fail_all(error)
            return
        if counter != self.counter:
            self.counter = counter
            self._request_scan()
        if self.waiters and self.tick is None:
            self.tick = self.loop.call_later(self._interval(), self._on_tick)

    def _request_scan(self) -> None:
        """Scans now, or once the pacing allows; changes meanwhile join that one scan."""
        if self.paced is not None:
            return
        delay = self.next_scan - time.monotonic()
        if delay <= 0:
            self._scan()
        else:
            self.paced = self.loop.call_later(delay, self._paced_scan)

    def _paced_scan(self) -> None:
        self.paced = None
        if self.waiters:
            self._scan()

    def _scan(self) -> None:
        """Checks every waiting promise in one C call and finishes those no longer pending."""
        started = time.thread_time()  # CPU time: a loaded machine must not stretch the pacing
        waiters = [w for w in self.waiters if not w.future.done()]
        if not waiters:
            return
        try:
            done = _core.promise_poll_many([w.handle for w in waiters])
        except Exception as error:  # noqa: BLE001 - a database error reaches every waiter
            self._fail_all(error)
            return
        # Paced by the cost of looking, not of delivering: that is work each completion needs anyway.
        self.next_scan = time.monotonic() + SCAN_PACE * (time.thread_time() - started)
        for index, state, payload in done:
            _deliver(waiters[index], state, payload)

    def _fail_all(self, error: BaseException) -> None:
        for waiter in list(self.waiters):
            if not waiter.future.done():
                waiter.future.set_exception(error)


_registry_lock = threading.Lock()
_registry: Dict[Tuple[int, int], _Watcher] = {}


def _watcher(loop: asyncio.AbstractEventLoop, host: _core.Host) -> _Watcher:
    key = (id(loop), id(host))
    with _registry_lock:
        watcher = _registry.get(key)
        if watcher is not None and watcher.loop is loop and watcher.host is host:
            return watcher
    watcher = _Watcher(key, loop, host)  # outside the lock: it may touch the database
    with _registry_lock:
        _registry[key] = watcher
    return watcher


def waiting_count() -> int:
    """How many coroutines wait through watchers right now, in every loop (for tests)."""
    with _registry_lock:
        return sum(len(w.waiters) for w in _registry.values())


def _expire(future: asyncio.Future[Any], op: str, timeout: float) -> None:
    if not future.done():
        future.set_exception(TimeoutError(f"{op} timed out after {timeout} s; the promise is still pending"))


async def _wait(
    host: _core.Host,
    promise_id: PromiseId,
    finish: _Finish,
    worker: Optional[_core.Worker],
    timeout: Optional[float],
    op: str = "await_promise",
) -> Any:
    """Registers a waiter, checks once (no lost wake-up), and waits for the watcher."""
    loop = asyncio.get_running_loop()
    watcher = _watcher(loop, host)
    try:
        handle = host.get_promise(_promise_c_form(promise_id))
    except BaseException:
        if not watcher.waiters:
            watcher._stop()
        raise
    future: asyncio.Future[Any] = loop.create_future()
    waiter = _Waiter(handle, future, finish, worker)
    watcher.add(waiter)
    timer = None if timeout is None else loop.call_later(timeout, _expire, future, op, timeout)
    try:
        state = handle.state()
        if state != _PENDING:
            _deliver(waiter, state, handle.get() if state == _COMPLETED else None)
        return await future
    finally:
        if timer is not None:
            timer.cancel()
        watcher.discard(waiter)


async def worker_await(core_worker: _core.Worker, core_host: _core.Host, pid: PromiseId, timeout: Optional[float]) -> bytes:
    """A worker's asyncio await (``timeout`` already checked): what ``Worker.await_promise_async`` runs."""
    pid_c = _promise_c_form(pid)
    try:  # already completed or gone, replaying, or not ours: answered (and recorded) at once
        return core_worker.await_promise(pid_c, 0.0)
    except TimeoutError:
        pass
    if timeout == 0:
        raise TimeoutError("await_promise timed out after 0 s; the promise is still pending")

    def finish(state: int, payload: Optional[bytes]) -> bytes:
        # The worker's own await records the finished call (payload or PromiseNotFound) once.
        return core_worker.await_promise(pid_c, 0.0)

    value: bytes = await _wait(core_host, pid, finish, core_worker, timeout)
    return value


async def host_await(core_host: _core.Host, pid: PromiseId, timeout: Optional[float]) -> bytes:
    """The outside party's asyncio await (``timeout`` already checked); records nothing."""
    payload = core_host.poll_promise(_promise_c_form(pid))  # PromiseNotFound if gone
    if payload is not None:
        return payload
    if timeout == 0:
        raise TimeoutError("await_promise timed out after 0 s; the promise is still pending")

    def finish(state: int, payload: Optional[bytes]) -> bytes:
        if state == _COMPLETED and payload is not None:
            return payload
        raise PromiseNotFound(f"promise {pid} not found")

    value: bytes = await _wait(core_host, pid, finish, None, timeout)
    return value


async def pollable_wait(handle: _core.Promise, core_host: _core.Host, pid: PromiseId, timeout: Optional[float]) -> None:
    """``aio.wait_ready`` of a pollable's handle (``timeout`` already checked); records nothing."""
    if handle.ready():
        return
    if timeout == 0:
        raise TimeoutError("wait_ready timed out after 0 s; the promise is still pending")

    def finish(state: int, payload: Optional[bytes]) -> None:
        return None

    await _wait(core_host, pid, finish, None, timeout, "wait_ready")
