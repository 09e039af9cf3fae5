"""Golem's identifiers as frozen dataclasses: Uuid, ComponentId, WorkerId, PromiseId.

Field names and order match Golem's ``golem:api/host`` records.  ``str(x)`` gives the text form
and ``X.parse(text)`` reads it back, both through the C library so Python and C agree.
"""

from __future__ import annotations

import uuid as _uuid
from dataclasses import dataclass
from typing import Tuple

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

    @classmethod
    def parse(cls, text: str) -> PromiseId:
        """Reads ``uuid/worker_name/oplog_idx``; raises InvalidId if malformed."""
        high, low, name, idx = _core.promise_id_parse(_check_text("PromiseId", text))
        return cls(WorkerId(ComponentId(Uuid(high, low)), name), idx)

    def _as_tuple(self) -> Tuple[int, int, str, int]:
        u = self.worker_id.component_id.uuid
        return (u.high_bits, u.low_bits, self.worker_id.worker_name, self.oplog_idx)

    @classmethod
    def _from_tuple(cls, t: Tuple[int, int, str, int]) -> PromiseId:
        return cls(WorkerId(ComponentId(Uuid(t[0], t[1])), t[2]), t[3])
