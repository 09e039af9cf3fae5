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

from typing import Union

from ._current import current_worker
from ._host import GetPromiseResult, Pollable, PromiseResult, get_promise_of
from ._ids import PromiseId

__all__ = ["GetPromiseResult", "PromiseResult", "Pollable", "get_promise", "get_promise_of"]


def get_promise(promise_id: Union[PromiseId, str]) -> GetPromiseResult:
    """Golem 1.3+'s get-promise for the current worker (see :func:`golem_promise.current_worker`).

    Records nothing by itself; ``get()`` records the worker's poll.  The handle is lazy: a
    promise that does not exist gives a handle whose pollable is ready at once and whose
    ``get()`` raises PromiseNotFound.
    """
    return get_promise_of(current_worker(), promise_id)
