"""asyncio support: await a promise without blocking the event loop.

The blocking C await runs on a helper thread in short slices; the coroutine resumes on the loop
when it finishes.  Cancelling the coroutine stops the helper within one slice (≤ 0.1 s).
"""

from __future__ import annotations

import asyncio
import functools
import threading
import time
from typing import Callable, Optional

__all__ = ["await_in_thread", "SLICE_SECONDS"]

#: Longest single blocking wait of the helper thread, so cancellation is noticed promptly.
SLICE_SECONDS = 0.1


async def await_in_thread(wait: Callable[[Optional[float]], bytes], timeout: Optional[float]) -> bytes:
    """Runs ``wait(slice_timeout)`` repeatedly on a helper thread until it returns or raises.

    ``wait`` is a bound ``await_promise`` of a Host or Worker.  Slices that time out are not
    recorded in a worker's oplog, so the result is recorded once, as for a blocking await.
    Raises TimeoutError after ``timeout`` seconds (None waits forever).
    """
    if timeout is not None and not timeout >= 0:
        raise ValueError("timeout must be a non-negative number of seconds, or None")
    loop = asyncio.get_running_loop()
    future: asyncio.Future[bytes] = loop.create_future()
    cancelled = threading.Event()
    deadline = None if timeout is None else time.monotonic() + timeout

    def deliver_result(value: bytes) -> None:
        if not future.done():
            future.set_result(value)

    def deliver_error(error: BaseException) -> None:
        if not future.done():
            future.set_exception(error)

    def post(callback: Callable[[], None]) -> None:
        try:
            loop.call_soon_threadsafe(callback)
        except RuntimeError:  # the loop is closed: nobody is waiting any more
            pass

    def run() -> None:
        try:
            while True:
                left = SLICE_SECONDS if deadline is None else deadline - time.monotonic()
                try:
                    value = wait(max(0.0, min(SLICE_SECONDS, left)))
                except TimeoutError:
                    if cancelled.is_set():
                        return
                    if deadline is not None and time.monotonic() >= deadline:
                        raise
                    continue
                post(functools.partial(deliver_result, value))
                return
        except BaseException as error:  # noqa: BLE001 - handed to the awaiting coroutine
            if not cancelled.is_set():
                # partial, not a lambda: `error` is unbound when the except block ends.
                post(functools.partial(deliver_error, error))

    thread = threading.Thread(target=run, name="golem-promise-await", daemon=True)
    thread.start()
    try:
        return await future
    finally:
        cancelled.set()
