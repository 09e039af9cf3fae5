"""Timer pollables for a monotonic clock that golem-promise records.

A Python host can replace a WASI interface only whole, so recording ``monotonic-clock.now``
of a component that also imports ``subscribe-instant`` / ``subscribe-duration`` (every
componentize-py component does: Python's sleep and asyncio use them) means answering those
too, with a ``wasi:io/poll`` pollable, a resource wasmtime's WASI owns and the binding cannot
make.  A tiny component in the text format, instantiated in the same store from a linker that
has only wasmtime's WASI, re-exports wasmtime's own subscribe functions; their pollables are
wasmtime's, so the guest polls and drops them as usual.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, Tuple

import wasmtime
from wasmtime import component as wc

__all__ = ["timers"]

# Re-exports wasmtime's subscribe-duration (the only one needed: an instant is turned into a
# duration on our clock's base, see _link).  The import versions need only be 0.2-compatible:
# wasmtime links any 0.2.x request to its own.
_TIMERS_WAT = """
(component
  (import "wasi:io/poll@0.2.0" (instance $poll (export "pollable" (type (sub resource)))))
  (alias export $poll "pollable" (type $pollable))
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $mono
    (alias outer 1 $pollable (type $p))
    (export "pollable" (type $pp (eq $p)))
    (type $own (own $pp))
    (export "subscribe-duration" (func (param "when" u64) (result $own)))
  ))
  (core func $sd (canon lower (func $mono "subscribe-duration")))
  (core module $m
    (import "wasi" "subscribe-duration" (func $sd (param i64) (result i32)))
    (func (export "subscribe-duration") (param i64) (result i32) (call $sd (local.get 0))))
  (core instance $i (instantiate $m (with "wasi" (instance (export "subscribe-duration" (func $sd))))))
  (func (export "subscribe-duration") (param "when" u64) (result (own $pollable))
    (canon lift (core func $i "subscribe-duration")))
)
"""

_LOCK = threading.Lock()
_COMPILED: Dict[int, Tuple[wasmtime.Engine, wc.Component]] = {}  # by id(engine), engine kept alive


def timers(engine: wasmtime.Engine, store: wasmtime.Store) -> Any:
    """wasmtime's ``subscribe-duration(nanoseconds) -> own<pollable>`` as a function of
    ``(store, nanoseconds)``, from a helper instance in ``store`` (which must have WASI set)."""
    with _LOCK:
        entry = _COMPILED.get(id(engine))
        if entry is None or entry[0] is not engine:
            entry = (engine, wc.Component(engine, _TIMERS_WAT))
            _COMPILED[id(engine)] = entry
    linker = wc.Linker(engine)
    linker.add_wasip2()
    instance = linker.instantiate(store, entry[1])
    func = instance.get_func(store, "subscribe-duration")
    if func is None:  # the text above exports it: only a broken binding gets here
        raise RuntimeError("the timer helper component has no subscribe-duration export")
    return func
