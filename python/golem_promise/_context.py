"""The current worker: a ContextVar, so each thread and each asyncio task sees its own."""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING, Callable, Optional, Tuple

if TYPE_CHECKING:
    from ._host import Worker

__all__ = ["get_current", "push", "pop"]

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
get_current: Callable[[], Optional[Worker]] = _current.get


def push(worker: Worker) -> None:
    """Makes ``worker`` the current worker until the matching :func:`pop`."""
    token = _current.set(worker)
    _tokens.set(_tokens.get() + (token,))


def pop(worker: Worker) -> None:
    """Restores the worker that was current before the matching :func:`push`."""
    tokens = _tokens.get()
    if not tokens or _current.get() is not worker:
        raise RuntimeError("Worker context exited out of order (or in another context)")
    _tokens.set(tokens[:-1])
    _current.reset(tokens[-1])
