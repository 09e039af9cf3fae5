"""Golem's identifiers as frozen dataclasses: Uuid, ComponentId, WorkerId, PromiseId.

Field names and order match Golem's ``golem:api/host`` records.  ``str(x)`` gives the text form
and ``X.parse(text)`` reads it back, both through the C library so Python and C agree.

Ids that come back from the C library (created promises, parsed text, listings, oplog entries)
are already valid, so they are built without re-validation and keep their C form (the
``gp_promise_id_t`` bytes) on the side; passing such an id back to the library is then one
copy.  Ids a user constructs are validated when constructed (field types and ranges) and when
first passed to the library (the worker name), which also stores their C form.  The C form is
no field: equality, hashing, ``repr``, pickling and ``dataclasses`` functions ignore it.
"""

from __future__ import annotations

import uuid as _uuid
from dataclasses import dataclass
from typing import Dict, Tuple

from . import _core
from ._errors import InvalidId

__all__ = ["Uuid", "ComponentId", "WorkerId", "PromiseId", "U64_MAX"]

#: Largest value of a u64 field.
U64_MAX = (1 << 64) - 1


def _check_u64(owner: str, field: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{owner}.{field} must be an int, not {type(value).__name__}")
    if not 0 <= value <= U64_MAX:
        raise InvalidId(f"{owner}.{field} must be in 0..2**64-1, got {value}")


def _check_type(owner: str, field: str, value: object, expected: type) -> None:
    if not isinstance(value, expected):
        raise TypeError(
            f"{owner}.{field} must be a {expected.__name__}, not {type(value).__name__}"
        )


def _check_utf8(what: str, text: str) -> None:
    """Raises InvalidId if ``text`` cannot cross into the C library as UTF-8.

    A str with lone surrogates (from ``surrogateescape`` decoding, say) has no UTF-8 form;
    pybind11 would reject it with a generic TypeError about argument types instead.
    """
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise InvalidId(f"{what} is not valid Unicode text ({e.reason} at index {e.start}): {text!r}") from None


def _check_text(kind: str, text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(f"{kind}.parse expects a str, not {type(text).__name__}")
    _check_utf8(f"{kind} text", text)
    return text


@dataclass(frozen=True)
class Uuid:
    """Golem's Uuid: ``high_bits`` are the most significant 64 bits of the big-endian UUID."""

    high_bits: int
    low_bits: int

    def __post_init__(self) -> None:
        _check_u64("Uuid", "high_bits", self.high_bits)
        _check_u64("Uuid", "low_bits", self.low_bits)

    def __str__(self) -> str:
        """The standard lower-case 36-character form."""
        return _core.uuid_format(self.high_bits, self.low_bits)

    @classmethod
    def parse(cls, text: str) -> Uuid:
        """Reads a UUID in any case; raises InvalidId if malformed."""
        high, low = _core.uuid_parse(_check_text("Uuid", text))
        return cls(high, low)

    @classmethod
    def from_uuid(cls, value: _uuid.UUID) -> Uuid:
        """Converts a standard-library ``uuid.UUID``."""
        _check_type("Uuid", "from_uuid argument", value, _uuid.UUID)
        return cls(value.int >> 64, value.int & U64_MAX)

    def to_uuid(self) -> _uuid.UUID:
        """Converts to a standard-library ``uuid.UUID``."""
        return _uuid.UUID(int=(self.high_bits << 64) | self.low_bits)

    @classmethod
    def nil(cls) -> Uuid:
        """The nil UUID (all zero bits)."""
        return cls(0, 0)

    def _as_tuple(self) -> Tuple[int, int]:
        return (self.high_bits, self.low_bits)


@dataclass(frozen=True)
class ComponentId:
    """Golem's ComponentId: a component's UUID.  Its text form is the UUID text."""

    uuid: Uuid

    def __post_init__(self) -> None:
        _check_type("ComponentId", "uuid", self.uuid, Uuid)

    def __str__(self) -> str:
        """The component's UUID text."""
        return str(self.uuid)

    @classmethod
    def parse(cls, text: str) -> ComponentId:
        """Reads a component id (a UUID in any case); raises InvalidId if malformed."""
        return cls(Uuid.parse(text))

    @classmethod
    def from_uuid(cls, value: _uuid.UUID) -> ComponentId:
        """Converts a standard-library ``uuid.UUID``."""
        return cls(Uuid.from_uuid(value))

    def to_uuid(self) -> _uuid.UUID:
        """Converts to a standard-library ``uuid.UUID``."""
        return self.uuid.to_uuid()


@dataclass(frozen=True)
class WorkerId:
    """Golem's WorkerId: a component and a worker name.  Text form ``{uuid}/{worker_name}``.

    The name is checked against Golem's rule (1 to 100 of ``A-Z a-z 0-9 _ -``, not starting
    with ``-``) by ``parse`` and whenever the id is passed to the library.
    """

    component_id: ComponentId
    worker_name: str

    def __post_init__(self) -> None:
        _check_type("WorkerId", "component_id", self.component_id, ComponentId)
        _check_type("WorkerId", "worker_name", self.worker_name, str)
        _check_utf8("WorkerId.worker_name", self.worker_name)

    def __str__(self) -> str:
        """``{component_uuid}/{worker_name}``."""
        return f"{self.component_id}/{self.worker_name}"

    @classmethod
    def parse(cls, text: str) -> WorkerId:
        """Reads ``uuid/worker_name``; raises InvalidId if malformed or the name is invalid."""
        high, low, name = _core.worker_id_parse(_check_text("WorkerId", text))
        return cls(ComponentId(Uuid(high, low)), name)

    def _as_tuple(self) -> Tuple[int, int, str]:
        u = self.component_id.uuid
        return (u.high_bits, u.low_bits, self.worker_name)

    @classmethod
    def _from_tuple(cls, t: Tuple[int, int, str]) -> WorkerId:
        return cls(ComponentId(Uuid(t[0], t[1])), t[2])


@dataclass(frozen=True)
class PromiseId:
    """Golem's PromiseId: the creating worker and the oplog index of the creating call.

    Text form ``{component_uuid}/{worker_name}/{oplog_idx}``; ``parse`` splits at the last ``/``.
    """

    worker_id: WorkerId
    oplog_idx: int

    def __post_init__(self) -> None:
        _check_type("PromiseId", "worker_id", self.worker_id, WorkerId)
        _check_u64("PromiseId", "oplog_idx", self.oplog_idx)

    def __str__(self) -> str:
        """``{component_uuid}/{worker_name}/{oplog_idx}``."""
        return f"{self.worker_id}/{self.oplog_idx}"

    def __reduce__(self) -> Tuple[type, Tuple[WorkerId, int]]:
        # Fields only: the cached C form is rebuilt (and re-checked) where it is next used.
        return (PromiseId, (self.worker_id, self.oplog_idx))

    @classmethod
    def parse(cls, text: str) -> PromiseId:
        """Reads ``uuid/worker_name/oplog_idx``; raises InvalidId if malformed."""
        return _promise_id_from_core(_core.promise_id_parse(_check_text("PromiseId", text)))


# ------------------------------------------------------------------ ids from and to the library

_new = object.__new__

# Ids from the library usually name a few workers many times (an oplog, a listing): share one
# WorkerId per worker.  Bounded, so a process that sees many workers does not grow it forever.
_WORKER_IDS_MAX = 256
_worker_ids: Dict[Tuple[int, int, str], WorkerId] = {}


def _worker_id_from_core(high: int, low: int, name: str) -> WorkerId:
    """A WorkerId for fields the library produced (valid by construction: no re-validation)."""
    key = (high, low, name)
    worker_id = _worker_ids.get(key)
    if worker_id is None:
        uuid = _new(Uuid)
        uuid.__dict__.update(high_bits=high, low_bits=low)
        component = _new(ComponentId)
        component.__dict__["uuid"] = uuid
        worker_id = _new(WorkerId)
        worker_id.__dict__.update(component_id=component, worker_name=name)
        if len(_worker_ids) >= _WORKER_IDS_MAX:
            _worker_ids.clear()
        _worker_ids[key] = worker_id
    return worker_id


def _promise_id_from_c(worker_id: WorkerId, oplog_idx: int, c_form: bytes) -> PromiseId:
    """A PromiseId the library returned, with its C form (no re-validation: it is valid)."""
    promise_id = _new(PromiseId)
    d = promise_id.__dict__
    d["worker_id"] = worker_id
    d["oplog_idx"] = oplog_idx
    d["_c"] = c_form
    return promise_id


def _promise_id_from_core(t: Tuple[int, int, str, int, bytes]) -> PromiseId:
    """A PromiseId from the ``(high, low, name, oplog_idx, c_form)`` tuple ``_core`` returns."""
    return _promise_id_from_c(_worker_id_from_core(t[0], t[1], t[2]), t[3], t[4])


def _promise_c_form(promise_id: object) -> bytes:
    """The C form of a promise id argument (a PromiseId or its text), for ``_core``.

    Cached on the PromiseId; the first use of a user-constructed id checks its worker name
    (InvalidId) in the library.
    """
    c_form = getattr(promise_id, "_c", None)
    if c_form is not None and type(promise_id) is PromiseId:
        return c_form  # type: ignore[no-any-return]
    if isinstance(promise_id, str):
        return PromiseId.parse(promise_id).__dict__["_c"]  # type: ignore[no-any-return]
    if not isinstance(promise_id, PromiseId):
        raise TypeError(f"promise_id must be a PromiseId or str, not {type(promise_id).__name__}")
    w = promise_id.worker_id
    u = w.component_id.uuid
    c_form = _core.promise_id_make(u.high_bits, u.low_bits, w.worker_name, promise_id.oplog_idx)
    object.__setattr__(promise_id, "_c", c_form)
    return c_form
