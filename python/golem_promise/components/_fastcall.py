"""Golem's promise functions registered with wasmtime's C API directly, values converted by hand.

The binding's ``LinkerInstance.add_func`` converts every argument and result through its
generic code: per call it rebuilds the function's type from C (a promise-id is four nested
records), then walks each value by that type, a ``list<u8>`` one byte at a time.  That costs
about 0.2 ms per call.  The promise functions have fixed WIT signatures (checked when the
component is planned, _link.PROMISE_FUNCTIONS), so here each has a callback that reads and
writes the C values in their known shapes: the fields of a record by position, the bytes of a
``list<u8>`` by one slice over the array of values, a promise-id result cloned from a template
built once per instance with only its index patched.  Argument values belong to the callee and
are freed here, as the binding's own conversion does.

It leans on the binding's ctypes layer (``wasmtime._ffi``: the value structs, the callback
type and ``wasmtime_component_linker_instance_add_func``).  ``available()`` checks at import
that those are there with the expected shapes; if not, _link falls back to the generic path.
"""

from __future__ import annotations

import ctypes
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple

try:  # the binding's internals; checked below
    from wasmtime import _ffi as ffi
    from wasmtime import WasmtimeError
    from wasmtime.component._enter import catch_exceptions

    _VAL = ffi.wasmtime_component_val_t
    _SIZE = ctypes.sizeof(_VAL)
    _OF = _VAL.of.offset  # where a value's payload starts (a u8 is its first byte)
    _ENTRY = ffi.wasmtime_component_valrecord_entry_t
    _U8 = ffi.WASMTIME_COMPONENT_U8.value
    _U64 = ffi.WASMTIME_COMPONENT_U64.value
    _BOOL = ffi.WASMTIME_COMPONENT_BOOL.value
    _LIST = ffi.WASMTIME_COMPONENT_LIST.value
    _RECORD = ffi.WASMTIME_COMPONENT_RECORD.value
    _STRING = ffi.WASMTIME_COMPONENT_STRING.value
    _OPTION = ffi.WASMTIME_COMPONENT_OPTION.value
    _CALLBACK = ffi.wasmtime_component_func_callback_t
    _add_func = ffi.wasmtime_component_linker_instance_add_func
    _val_delete = ffi.wasmtime_component_val_delete
    _val_clone = ffi.wasmtime_component_val_clone
    _val_new = ffi.wasmtime_component_val_new
    _list_new_uninit = ffi.wasmtime_component_vallist_new_uninit
    _record_new_uninit = ffi.wasmtime_component_valrecord_new_uninit
    _str_to_capi = ffi.str_to_capi
    _IMPORTED = True
except (ImportError, AttributeError):  # pragma: no cover - another binding version
    _IMPORTED = False


def available() -> bool:
    """True when the binding's C layer has what the fast callbacks use, with the expected shapes."""
    if not _IMPORTED:
        return False
    try:
        fields = {f[0] for f in ffi.wasmtime_component_val_t._fields_}
        union = {f[0] for f in ffi.wasmtime_component_valunion_t._fields_}
        entry = {f[0] for f in _ENTRY._fields_}
        return (
            "kind" in fields and "of" in fields
            and all(k in union for k in ("u8", "u64", "boolean", "string", "list", "record", "option"))
            and "name" in entry and "val" in entry
            and ctypes.sizeof(ctypes.c_uint8) == 1 and _U8 == 2 and _SIZE >= 16
        )
    except Exception:  # pragma: no cover - another binding version
        return False


# Callbacks registered here, by the index passed to wasmtime as the callback's data.
_FUNCS: Dict[int, Callable[[Any, int, Any], None]] = {}
_NEXT = [1]
_LOCK = threading.Lock()


def _dispatch(idx: Any, context: Any, _ty: Any, args: Any, nargs: int, results: Any, nresults: int) -> Any:
    fn = _FUNCS[idx or 0]

    def run(_store: Any) -> None:
        fn(args, nargs, results)

    return catch_exceptions(context, run)


def _finalize(idx: Any) -> None:
    with _LOCK:
        _FUNCS.pop(idx or 0, None)


if _IMPORTED:
    _DISPATCH = _CALLBACK(_dispatch)
    _FINALIZE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(_finalize)


def add_func(linker_instance: Any, name: str, fn: Callable[[Any, int, Any], None]) -> None:
    """Registers ``fn(args, nargs, results)`` as ``name`` in a LinkerInstance (its C pointer)."""
    with _LOCK:
        idx = _NEXT[0]
        _NEXT[0] += 1
        _FUNCS[idx] = fn
    raw = name.encode("utf-8")
    err = _add_func(linker_instance.ptr(), ctypes.create_string_buffer(raw), len(raw), _DISPATCH, idx, _FINALIZE)
    if err:
        with _LOCK:
            _FUNCS.pop(idx, None)
        raise WasmtimeError._from_ptr(err)


# ------------------------------------------------------------------ values in their known shapes


def read_promise_id(val: Any) -> Tuple[int, int, str, int]:
    """(component high bits, low bits, worker name, oplog index) of a promise-id record value;
    the value is freed."""
    try:
        if val.kind != _RECORD or val.of.record.size != 2:
            raise TypeError("a promise-id must be a record of two fields")
        rec = val.of.record.data
        worker = rec[0].val.of.record.data
        uuid = worker[0].val.of.record.data[0].val.of.record.data
        name = worker[1].val.of.string
        text = ctypes.string_at(name.data, name.size).decode("utf-8") if name.size else ""
        return int(uuid[0].val.of.u64), int(uuid[1].val.of.u64), text, int(rec[1].val.of.u64)
    finally:
        _val_delete(ctypes.byref(val))


def read_bytes(val: Any) -> bytes:
    """The bytes of a ``list<u8>`` value; the value is freed."""
    try:
        if val.kind != _LIST:
            raise TypeError("expected a list<u8>")
        n = val.of.list.size
        return ctypes.string_at(val.of.list.data, n * _SIZE)[_OF::_SIZE] if n else b""
    finally:
        _val_delete(ctypes.byref(val))


def write_u64(out: Any, value: int) -> None:
    """A u64 result."""
    out.kind = _U64
    out.of.u64 = value


def write_bool(out: Any, value: bool) -> None:
    """A bool result."""
    out.kind = _BOOL
    out.of.boolean = value


def write_bytes(out: Any, data: bytes) -> None:
    """A ``list<u8>`` result."""
    n = len(data)
    lst = ffi.wasmtime_component_vallist_t()
    _list_new_uninit(ctypes.byref(lst), n)
    if n:
        # Every element a u8 value: its kind byte, then the byte in its payload.
        buf = bytearray(n * _SIZE)
        buf[0::_SIZE] = bytes([_U8]) * n
        buf[_OF::_SIZE] = data
        ctypes.memmove(lst.data, bytes(buf), len(buf))
    out.kind = _LIST
    out.of.list = lst


def write_option_bytes(out: Any, data: Optional[bytes]) -> None:
    """An ``option<list<u8>>`` result."""
    out.kind = _OPTION
    if data is None:
        out.of.option = None
        return
    inner = _VAL()
    write_bytes(inner, data)
    out.of.option = _val_new(ctypes.byref(inner))  # moves inner into a new boxed value


class PromiseTemplate:
    """A promise-id record value of one worker, built once; each result is its clone with the
    oplog index set."""

    def __init__(self, high: int, low: int, worker_name: str) -> None:
        """The worker's component uuid and name."""
        self._val = _VAL()
        uuid = self._record([("high-bits", high), ("low-bits", low)])
        component = self._record([("uuid", uuid)])
        name = _VAL()
        name.kind = _STRING
        name.of.string = _str_to_capi(worker_name)
        worker = self._record([("component-id", component), ("worker-name", name)])
        top = self._record([("worker-id", worker), ("oplog-idx", 0)])
        ctypes.memmove(ctypes.byref(self._val), ctypes.byref(top), _SIZE)

    @staticmethod
    def _record(fields: List[Tuple[str, Any]]) -> Any:
        rec = ffi.wasmtime_component_valrecord_t()
        _record_new_uninit(ctypes.byref(rec), len(fields))
        for i, (name, value) in enumerate(fields):
            rec.data[i].name = _str_to_capi(name)
            if isinstance(value, int):
                rec.data[i].val.kind = _U64
                rec.data[i].val.of.u64 = value
            else:
                ctypes.memmove(ctypes.byref(rec.data[i].val), ctypes.byref(value), _SIZE)
        out = _VAL()
        out.kind = _RECORD
        out.of.record = rec
        return out

    def write(self, out: Any, oplog_idx: int) -> None:
        """A promise-id result with this index."""
        _val_clone(ctypes.byref(self._val), out)
        out.contents.of.record.data[1].val.of.u64 = oplog_idx

    def close(self) -> None:
        """Frees the template (idempotent)."""
        if self._val.kind == _RECORD:
            _val_delete(ctypes.byref(self._val))
            self._val.kind = _BOOL

    def __del__(self) -> None:
        self.close()
