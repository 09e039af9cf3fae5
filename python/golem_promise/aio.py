"""asyncio: await promises without blocking the event loop and without a thread per wait.

::

    import golem_promise.aio as gpa

    payload = await gpa.await_promise(promise_id, timeout=30)     # the current worker's await
    value = await gpa.await_promise_json(promise_id)
    payload = await gpa.await_promise(promise_id, host=host)      # an outside party's wait

How it works: each (event loop, host) pair has one *watcher*.  It registers the host's change
feed (``gp_host_change_fd``, an eventfd that becomes readable whenever a promise of the host is
completed or deleted, by this process or, for a file host, by any other) with
``loop.add_reader``.  When it is readable the watcher drains it (``gp_host_change_ack``) and, if
the host's change counter moved, checks every waiting promise in one GIL-free C call
(``gp_promise_poll_many``, one indexed read per promise) and resolves the futures of those no
longer pending.  A waiting promise costs one small Python object, one asyncio future and one C
handle; no thread, no timer (unless it has a timeout).  A scan costs ~0.3 µs per waiting
promise, so scans are paced (:data:`SCAN_PACE`): under a steady stream of changes they take at
most a quarter of the loop, and wake-ups wait at most about three scans' time.

What is recorded: a worker's await (the default, and ``worker=``) is finished by the worker's own
``await_promise(timeout=0)``, so it is recorded in the worker's oplog exactly once, as a finished
blocking await would be (payload, or PromiseNotFound if the promise was deleted), and replays
like one.  A timeout or a cancellation records nothing.  Host-level waits (``host=``) and
:func:`wait_ready` record nothing.

Closing the host (or the worker) while a coroutine waits ends the wait with ValueError within
:data:`TICK_SECONDS`.  Several event loops (in several threads) waiting on the same host share
its one change feed; each still wakes, at worst :data:`TICK_SECONDS` late.
"""

from __future__ import annotations

from typing import Any, Optional, Union

from . import _json, _waits
from ._current import current_worker
from ._host import Host, Pollable, Worker, _host_await, _worker_await
from ._ids import PromiseId
from ._timeout import check_timeout
# The machinery lives one layer down (_waits), where the host layer reaches it too.
from ._waits import SCAN_PACE as SCAN_PACE, TICK_SECONDS as TICK_SECONDS, _Waiter as _Waiter, waiting_count as waiting_count

__all__ = ["await_promise", "await_promise_json", "wait_ready", "waiting_count", "TICK_SECONDS"]

async def worker_await(worker: Worker, promise_id: Union[PromiseId, str], timeout: Optional[float]) -> bytes:
    """The worker's asyncio await itself: what :meth:`Worker.await_promise_async` runs.

    :func:`await_promise` goes through that method rather than here, so a Worker subclass that
    overrides it (``golem_promise.testing.check_replay``'s) sees every asyncio await.
    """
    return await _worker_await(worker, promise_id, timeout)


async def await_promise(
    promise_id: Union[PromiseId, str],
    timeout: Optional[float] = None,
    *,
    worker: Optional[Worker] = None,
    host: Optional[Host] = None,
) -> bytes:
    """Waits for the promise without blocking the event loop and returns its payload.

    By default the current worker of the calling task awaits (``golem_promise.current_worker()``;
    recorded in its oplog once finished, as :meth:`Worker.await_promise`); ``worker=`` names
    another worker, ``host=`` waits as the outside party (records nothing, any worker's promise).
    ``timeout`` is in seconds (None waits forever): TimeoutError when it runs out, the promise
    stays pending and nothing is recorded.  PromiseNotFound if the promise does not exist or is
    deleted while waiting; PromiseNotOwned if a worker awaits another worker's promise.
    Cancelling the awaiting task removes the wait at once and records nothing.
    """
    if worker is not None and host is not None:
        raise TypeError("pass worker= or host=, not both")
    if host is not None:
        return await _host_await(host, promise_id, timeout)
    if worker is None:
        worker = current_worker()
    return await worker.await_promise_async(promise_id, timeout)


async def await_promise_json(
    promise_id: Union[PromiseId, str],
    timeout: Optional[float] = None,
    *,
    worker: Optional[Worker] = None,
    host: Optional[Host] = None,
) -> Any:
    """As :func:`await_promise`, decoding the payload as UTF-8 JSON."""
    return _json.decode(await await_promise(promise_id, timeout, worker=worker, host=host))


async def wait_ready(pollable: Pollable, timeout: Optional[float] = None) -> None:
    """The asyncio twin of ``Pollable.block``: returns once the promise is completed or gone.

    Host-level: records nothing.  TimeoutError after ``timeout`` seconds (None waits forever).
    A worker's pollable waits through the worker (``Worker._pollable_wait_ready``).
    """
    check_timeout(timeout)
    worker = pollable.worker
    if worker is not None:
        await worker._pollable_wait_ready(pollable, timeout)
    else:
        await pollable_wait(pollable, timeout)


async def pollable_wait(pollable: Pollable, timeout: Optional[float]) -> None:
    """:func:`wait_ready` itself, once the timeout is checked (``Worker._pollable_wait_ready``)."""
    await _waits.pollable_wait(pollable._handle, pollable._core_host, pollable.promise_id, timeout)
