"""PromiseInfo and the listing of a host's promises (``gp_host_list_promises``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from . import _core
from ._ids import PromiseId, WorkerId, _promise_id_from_core

__all__ = ["PromiseInfo", "list_promises", "PROMISE_STATES"]

#: The states ``Host.list_promises`` accepts as a filter (None lists both).
PROMISE_STATES = ("pending", "completed")

_STATE_CODES = {None: _core.PROMISE_ANY, "pending": _core.PROMISE_PENDING, "completed": _core.PROMISE_COMPLETED}
_STATE_NAMES = {_core.PROMISE_PENDING: "pending", _core.PROMISE_COMPLETED: "completed"}


@dataclass(frozen=True)
class PromiseInfo:
    """One existing promise of a host (mirrors ``gp_promise_info_t``).

    ``state`` is ``"pending"`` or ``"completed"``; ``payload_len`` is the payload's length in
    bytes when completed, None while pending.
    """

    promise_id: PromiseId
    state: str
    payload_len: Optional[int]


def list_promises(handle: _core.Host, worker_id: Optional[WorkerId], state: Optional[str]) -> List[PromiseInfo]:
    """Internal: ``Host.list_promises`` over the C handle."""
    if state is not None and not isinstance(state, str):
        raise TypeError(f"state must be 'pending', 'completed' or None, not {type(state).__name__}")
    try:
        code = _STATE_CODES[state]
    except KeyError:
        raise ValueError(f"state must be 'pending', 'completed' or None, not {state!r}") from None
    wid = None if worker_id is None else worker_id._as_tuple()
    out: List[PromiseInfo] = []
    for pid, st, plen in handle.list_promises(wid, code):
        name = _STATE_NAMES[st]
        out.append(PromiseInfo(_promise_id_from_core(pid), name, plen if name == "completed" else None))
    return out
