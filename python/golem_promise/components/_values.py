"""WIT values as JSON, the way Golem's REST API and CLI write them, typed by wasmtime's types.

The mapping (docs/components.md): bool, numbers and strings as themselves; char as its code
point (a number; a one-character string is accepted too); list and tuple as arrays
(``list<u8>`` too, an array of numbers, as Golem's REST does); record as an object keyed by WIT field names; enum as its case name; flags as an array
of names; option as the value or null; result as ``{"ok": v}`` or ``{"err": v}``; variant as
``{"case": v}`` (``{"case": null}`` for a case without payload).  Resources cannot be passed.
"""

from __future__ import annotations

import math
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from wasmtime import component as wc

__all__ = ["ArgumentError", "type_name", "from_json", "to_json", "args_from_json"]

_INT_RANGES: Dict[type, Tuple[int, int, str]] = {
    wc.U8: (0, 2**8 - 1, "u8"),
    wc.U16: (0, 2**16 - 1, "u16"),
    wc.U32: (0, 2**32 - 1, "u32"),
    wc.U64: (0, 2**64 - 1, "u64"),
    wc.S8: (-(2**7), 2**7 - 1, "s8"),
    wc.S16: (-(2**15), 2**15 - 1, "s16"),
    wc.S32: (-(2**31), 2**31 - 1, "s32"),
    wc.S64: (-(2**63), 2**63 - 1, "s64"),
}


class ArgumentError(ValueError):
    """A JSON value that does not fit its WIT type; ``path`` says where inside the value."""

    def __init__(self, path: str, expected: str, got: str, param: str = "") -> None:
        """``path`` like ``.field[2]`` (empty for the value itself), the expected WIT type, what was
        found, and the parameter (``argument 2 (label)``) once known."""
        where = f" at {path}" if path else ""
        lead = f"{param}{where}: " if param else (f"at {path}: " if path else "")
        super().__init__(f"{lead}expected {expected}, got {got}")
        self.path = path
        self.expected = expected
        self.got = got
        self.param = param


def type_name(ty: Any, depth: int = 0, limit: Optional[int] = 2) -> str:
    """A WIT-like spelling of a type: for messages, records and variants are spelled out
    ``limit`` levels deep; ``limit=None`` spells every level (to compare signatures)."""

    def inner(t: Any) -> str:
        return type_name(t, depth + 1, limit)

    cut = limit is not None and depth >= limit
    for cls, (_, _, name) in _INT_RANGES.items():
        if isinstance(ty, cls):
            return name
    simple = {wc.Bool: "bool", wc.F32: "f32", wc.F64: "f64", wc.Char: "char", wc.String: "string"}
    for cls, name in simple.items():
        if isinstance(ty, cls):
            return name
    if isinstance(ty, wc.ListType):
        return f"list<{inner(ty.element)}>"
    if isinstance(ty, wc.OptionType):
        return f"option<{inner(ty.payload)}>"
    if isinstance(ty, wc.ResultType):
        ok = "_" if ty.ok is None else inner(ty.ok)
        err = "_" if ty.err is None else inner(ty.err)
        return f"result<{ok}, {err}>"
    if isinstance(ty, wc.TupleType):
        return "tuple<" + ", ".join(inner(e) for e in ty.elements) + ">"
    if isinstance(ty, wc.RecordType):
        if cut:
            return "record {...}"
        return "record {" + ", ".join(f"{n}: {inner(t)}" for n, t in ty.fields) + "}"
    if isinstance(ty, wc.EnumType):
        return "enum {" + ", ".join(ty.names) + "}"
    if isinstance(ty, wc.FlagsType):
        return "flags {" + ", ".join(ty.names) + "}"
    if isinstance(ty, wc.VariantType):
        if cut:
            return "variant {...}"
        cases = (n if t is None else f"{n}({inner(t)})" for n, t in ty.cases)
        return "variant {" + ", ".join(cases) + "}"
    if isinstance(ty, (wc.OwnType, wc.BorrowType)):
        return "resource handle"
    return type(ty).__name__


def _json_kind(value: Any) -> str:
    """How a JSON value reads in a message: its kind, and short values themselves."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return f"number {value!r}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return f"array of {len(value)}"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def from_json(ty: Any, value: Any, path: str = "") -> Any:
    """The wasmtime value of WIT type ``ty`` for the JSON ``value``; ArgumentError if it does not fit."""
    if isinstance(ty, wc.Bool):
        if not isinstance(value, bool):
            raise ArgumentError(path, "bool", _json_kind(value))
        return value
    for cls, (low, high, name) in _INT_RANGES.items():
        if isinstance(ty, cls):
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ArgumentError(path, name, _json_kind(value))
            if not low <= value <= high:
                raise ArgumentError(path, f"{name} ({low}..{high})", _json_kind(value))
            return value
    if isinstance(ty, (wc.F32, wc.F64)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ArgumentError(path, type_name(ty), _json_kind(value))
        return float(value)
    if isinstance(ty, wc.Char):
        # Golem writes a char as its code point; a one-character string is taken too.
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 0x10FFFF:
            value = chr(value)
        if not isinstance(value, str) or len(value) != 1 or 0xD800 <= ord(value) <= 0xDFFF:
            raise ArgumentError(path, "char (a code point, or a string of one character)", _json_kind(value))
        return value
    if isinstance(ty, wc.String):
        if not isinstance(value, str):
            raise ArgumentError(path, "string", _json_kind(value))
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ArgumentError(path, "string", "text with a lone surrogate") from None
        return value
    if isinstance(ty, wc.ListType):
        if not isinstance(value, list):
            raise ArgumentError(path, type_name(ty), _json_kind(value))
        element = ty.element
        if isinstance(element, wc.U8):
            # wasmtime's binding takes bytes for list<u8>; Golem writes them as numbers.
            for i, b in enumerate(value):
                if isinstance(b, bool) or not isinstance(b, int) or not 0 <= b <= 255:
                    raise ArgumentError(f"{path}[{i}]", "u8 (0..255)", _json_kind(b))
            return bytes(value)
        return [from_json(element, v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(ty, wc.TupleType):
        elements = ty.elements
        if not isinstance(value, list) or len(value) != len(elements):
            raise ArgumentError(path, f"{type_name(ty)} (an array of {len(elements)})", _json_kind(value))
        return tuple(from_json(t, v, f"{path}[{i}]") for i, (t, v) in enumerate(zip(elements, value)))
    if isinstance(ty, wc.RecordType):
        if not isinstance(value, dict):
            raise ArgumentError(path, type_name(ty), _json_kind(value))
        fields = ty.fields
        names = {n for n, _ in fields}
        unknown = sorted(k for k in value if k not in names)
        if unknown:
            raise ArgumentError(path, type_name(ty), f"unknown field {unknown[0]!r}")
        record = wc.Record()
        for name, field_ty in fields:
            if name in value:
                field_value = value[name]
            elif isinstance(field_ty, wc.OptionType):
                field_value = None  # an absent option field is none, as in Golem's JSON
            else:
                raise ArgumentError(path, type_name(ty), f"no field {name!r}")
            setattr(record, name, from_json(field_ty, field_value, f"{path}.{name}"))
        return record
    if isinstance(ty, wc.EnumType):
        names_list = ty.names
        if not isinstance(value, str) or value not in names_list:
            raise ArgumentError(path, type_name(ty), _json_kind(value))
        return value
    if isinstance(ty, wc.FlagsType):
        names_set = set(ty.names)
        if not isinstance(value, list) or not all(isinstance(v, str) and v in names_set for v in value):
            raise ArgumentError(path, f"{type_name(ty)} (an array of names)", _json_kind(value))
        return set(value)
    if isinstance(ty, wc.OptionType):
        if value is None:
            return wc.Variant("none") if ty._tagged() else None
        return _variant_value(ty, "some", from_json(ty.payload, value, path))
    if isinstance(ty, wc.ResultType):
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("ok", "err"):
            raise ArgumentError(path, f'{type_name(ty)} ({{"ok": ...}} or {{"err": ...}})', _json_kind(value))
        tag, inner = next(iter(value.items()))
        inner_ty = ty.ok if tag == "ok" else ty.err
        if inner_ty is None:
            if inner is not None:
                raise ArgumentError(f"{path}.{tag}", "null (no payload)", _json_kind(inner))
            return _variant_value(ty, tag, None)
        return _variant_value(ty, tag, from_json(inner_ty, inner, f"{path}.{tag}"))
    if isinstance(ty, wc.VariantType):
        cases = dict(ty.cases)
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in cases:
            expected = f"{type_name(ty)} (an object with one case name)"
            raise ArgumentError(path, expected, _json_kind(value))
        tag, inner = next(iter(value.items()))
        case_ty = cases[tag]
        if case_ty is None:
            if inner is not None:
                raise ArgumentError(f"{path}.{tag}", "null (no payload)", _json_kind(inner))
            return _variant_value(ty, tag, None)
        return _variant_value(ty, tag, from_json(case_ty, inner, f"{path}.{tag}"))
    raise ArgumentError(path, type_name(ty), "a value (this type cannot be given as JSON)")


def _variant_value(ty: Any, tag: str, payload: Any) -> Any:
    """A value for an option, result or variant in the binding's form: a Variant only where the
    Python types of its cases overlap, else the bare payload (None for a case without one)."""
    if ty._tagged():  # the binding's own rule for when a bare payload would be ambiguous
        return wc.Variant(tag, payload)
    return payload


def _case_of(ty: Any, value: Any) -> Tuple[str, Any]:
    """Which case of an option, result or variant the binding's ``value`` is, and its payload."""
    if isinstance(value, wc.Variant):
        return value.tag, value.payload
    cases: Sequence[Tuple[str, Optional[Any]]] = ty._cases()
    for name, case_ty in cases:
        if case_ty is None:
            if value is None:
                return name, None
            continue
        classes: Set[type] = set()
        case_ty.add_classes(classes)
        if isinstance(value, tuple(classes)):
            return name, value
    raise TypeError(f"value {value!r} matches no case of {type_name(ty)}")


def to_json(ty: Any, value: Any) -> Any:
    """The JSON form of a wasmtime value of WIT type ``ty``."""
    if ty is None:
        return None
    if isinstance(ty, wc.Char):
        return ord(value)  # Golem's JSON form of a char: its code point
    if isinstance(ty, (wc.Bool, wc.String)) or type(ty) in _INT_RANGES:
        return value
    if isinstance(ty, (wc.F32, wc.F64)):
        return value if math.isfinite(value) else str(value)
    if isinstance(ty, wc.ListType):
        if isinstance(value, (bytes, bytearray)):
            return list(value)
        return [to_json(ty.element, v) for v in value]
    if isinstance(ty, wc.TupleType):
        return [to_json(t, v) for t, v in zip(ty.elements, value)]
    if isinstance(ty, wc.RecordType):
        return {name: to_json(t, getattr(value, name)) for name, t in ty.fields}
    if isinstance(ty, wc.EnumType):
        return value
    if isinstance(ty, wc.FlagsType):
        return sorted(value, key=ty.names.index)
    if isinstance(ty, wc.OptionType):
        tag, payload = _case_of(ty, value)
        return None if tag == "none" else to_json(ty.payload, payload)
    if isinstance(ty, wc.ResultType):
        tag, payload = _case_of(ty, value)
        inner_ty = ty.ok if tag == "ok" else ty.err
        return {tag: None if inner_ty is None else to_json(inner_ty, payload)}
    if isinstance(ty, wc.VariantType):
        tag, payload = _case_of(ty, value)
        case_ty = dict(ty.cases)[tag]
        return {tag: None if case_ty is None else to_json(case_ty, payload)}
    if isinstance(ty, (wc.OwnType, wc.BorrowType)):
        return "<resource>"
    return repr(value)


def args_from_json(params: List[Tuple[str, Any]], values: Sequence[Any]) -> List[Any]:
    """The wasmtime arguments for a function's ``params`` from JSON ``values``.

    ArgumentError names the parameter (by WIT name and position) and the expected type.
    """
    if len(values) != len(params):
        signature = ", ".join(f"{n}: {type_name(t)}" for n, t in params)
        raise ArgumentError("", f"{len(params)} argument(s) ({signature})", f"{len(values)}")
    out = []
    for i, ((name, ty), value) in enumerate(zip(params, values), start=1):
        try:
            out.append(from_json(ty, value))
        except ArgumentError as e:
            raise ArgumentError(e.path, e.expected, e.got, f"argument {i} ({name})") from None
    return out
