"""Linking a component's imports: Golem's promise functions, WASI from wasmtime, traps for the rest.

What is linked is read from the component's own import list, so a component built by any
toolchain gets exactly what it imports: every ``golem:api/host`` 1.1.x version links the same
promise functions (checked against the WIT signature they must have), WASI p2 comes from
wasmtime, and every other function traps with a message naming it.
"""

from __future__ import annotations

import json
import os
import re
import struct
import sys
import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Tuple, TypeVar

import wasmtime
from wasmtime import component as wc

from .. import _core
from .._errors import GolemPromiseError
from .._host import Worker
from .._ids import ComponentId, PromiseId, Uuid, WorkerId
from . import _fastcall, _pollables
from ._values import type_name

__all__ = ["GOLEM_HOST", "HostCallError", "ImportPlan", "Linked", "link", "plan_imports", "wit_signature"]

#: Interfaces whose promise functions golem-promise implements (Golem's 1.1.x releases).
GOLEM_HOST = re.compile(r"golem:api/host@1\.1\.\d+\Z")

# WASI p2 interfaces that wasmtime's add_wasip2 provides (any 0.2.x version: wasmtime links a
# semver-compatible request to its own).  Other wasi: interfaces get traps like any import.
_WASI_P2 = re.compile(r"wasi:(io|clocks|random|cli|filesystem|sockets)/[a-z0-9-]+@0\.2\.\d+\Z")

_UUID = "record {high-bits: u64, low-bits: u64}"
_WORKER_ID = f"record {{component-id: record {{uuid: {_UUID}}}, worker-name: string}}"
_PROMISE_ID = f"record {{worker-id: {_WORKER_ID}, oplog-idx: u64}}"

#: The WIT signature each promise function must have (golem:api/host@1.1.x, docs/semantics.md).
PROMISE_FUNCTIONS: Dict[str, str] = {
    "create-promise": f"func() -> {_PROMISE_ID}",
    "await-promise": f"func(promise-id: {_PROMISE_ID}) -> list<u8>",
    "poll-promise": f"func(promise-id: {_PROMISE_ID}) -> option<list<u8>>",
    "complete-promise": f"func(promise-id: {_PROMISE_ID}, data: list<u8>) -> bool",
    "delete-promise": f"func(promise-id: {_PROMISE_ID})",
    "get-oplog-index": "func() -> u64",
}


# Longest single wait of await-promise before it looks for a Ctrl-C (seconds).
_AWAIT_SLICE = 0.1

_IMPORTED = _core.OPLOG_IMPORTED_FUNCTION_INVOKED
_T = TypeVar("_T")

# WASI functions whose answers vary from run to run, recorded in the oplog when live and
# answered from it on replay, under the names Golem's executor records them with (v1.1.26,
# golem-worker-executor-base/src/durable_host/{clocks,random,cli}/*.rs).  Each interface is
# taken over whole (a Python host can replace an interface, not one function of it) and only
# when every function the component imports from it is one of these, or a monotonic clock's
# subscribe functions (_SUBSCRIBE: componentize-py components import them; a Rust component
# reading the clock imports now alone).
_U64 = struct.Struct("<Q")
_DATETIME = struct.Struct("<QI")


def _datetime(seconds: int, nanoseconds: int) -> wc.Record:
    r = wc.Record()
    setattr(r, "seconds", seconds)
    setattr(r, "nanoseconds", nanoseconds)
    return r


def _now() -> Tuple[int, int]:
    ns = time.time_ns()
    return ns // 1_000_000_000, ns % 1_000_000_000


#: interface (without version) -> {function: (WIT signature, Golem's recorded name, live answer,
#: encode, decode)}.  Live answers are what wasmtime's WASI gives an instance here: the wall
#: clock, the OS's random bytes, and an empty environment, argument list and working directory.
DURABLE_WASI: Dict[str, Dict[str, Tuple[str, str, Callable[..., Any], Callable[[Any], bytes], Callable[[bytes], Any]]]] = {
    "wasi:clocks/wall-clock": {
        "now": ("func() -> record {seconds: u64, nanoseconds: u32}", "wall_clock::now", _now,
                lambda v: _DATETIME.pack(*v), lambda b: _DATETIME.unpack(b)),
        "resolution": ("func() -> record {seconds: u64, nanoseconds: u32}", "wall_clock::resolution", lambda: (0, 1),
                       lambda v: _DATETIME.pack(*v), lambda b: _DATETIME.unpack(b)),
    },
    "wasi:clocks/monotonic-clock": {
        "now": ("func() -> u64", "monotonic_clock::now", time.monotonic_ns, lambda v: _U64.pack(v), lambda b: _U64.unpack(b)[0]),
        "resolution": ("func() -> u64", "monotonic_clock::resolution", lambda: 1, lambda v: _U64.pack(v), lambda b: _U64.unpack(b)[0]),
    },
    "wasi:random/random": {
        "get-random-bytes": ("func(len: u64) -> list<u8>", "golem random::get_random_bytes", lambda n: os.urandom(n),
                             bytes, bytes),
        "get-random-u64": ("func() -> u64", "golem random::get_random_u64", lambda: _U64.unpack(os.urandom(8))[0],
                           lambda v: _U64.pack(v), lambda b: _U64.unpack(b)[0]),
    },
    "wasi:random/insecure": {
        "get-insecure-random-bytes": ("func(len: u64) -> list<u8>", "golem random::insecure::get_insecure_random_bytes",
                                      lambda n: os.urandom(n), bytes, bytes),
        "get-insecure-random-u64": ("func() -> u64", "golem random::insecure::get_insecure_random_u64",
                                    lambda: _U64.unpack(os.urandom(8))[0], lambda v: _U64.pack(v), lambda b: _U64.unpack(b)[0]),
    },
    "wasi:random/insecure-seed": {
        "insecure-seed": ("func() -> tuple<u64, u64>", "golem random::insecure_seed::insecure_seed",
                          lambda: struct.unpack("<QQ", os.urandom(16)), lambda v: struct.pack("<QQ", *v),
                          lambda b: struct.unpack("<QQ", b)),
    },
    "wasi:cli/environment": {
        "get-environment": ("func() -> list<tuple<string, string>>", "golem_environment::get_environment", lambda: [],
                            lambda v: json.dumps(v).encode(), lambda b: [tuple(p) for p in json.loads(b)]),
        "get-arguments": ("func() -> list<string>", "golem_environment::get_arguments", lambda: [],
                          lambda v: json.dumps(v).encode(), lambda b: list(json.loads(b))),
        # Golem records initial-cwd under get_arguments' name (a naming slip it keeps for old
        # oplogs); ours is its own name.
        "initial-cwd": ("func() -> option<string>", "golem_environment::initial_cwd", lambda: None,
                        lambda v: json.dumps(v).encode(), lambda b: json.loads(b)),
    },
}
# monotonic-clock's timer functions, answered with wasmtime's own pollables (_pollables).  As in
# Golem (v1.1.26, golem-worker-executor-base/src/durable_host/clocks/monotonic_clock.rs),
# subscribe-duration records the clock reading it starts from under monotonic_clock::now and
# subscribe-instant records nothing.  Ours differs on replay: the timer is ready at once, since
# the original run already waited it out (Golem re-arms it on its new clock).
_MONOTONIC = "wasi:clocks/monotonic-clock"
_SUBSCRIBE = {"subscribe-instant": "func(when: u64) -> resource handle", "subscribe-duration": "func(when: u64) -> resource handle"}
_WASI_VERSIONED = re.compile(r"(wasi:[a-z-]+/[a-z-]+)@(0\.2\.\d+)\Z")


class HostCallError(Exception):
    """Why a host function trapped: kept per instance, since the binding's own slot is global."""

    def __init__(self, message: str, *, interface: str, function: str, unimplemented: bool, cause: Optional[BaseException] = None) -> None:
        """The trap's message, the WIT interface and function, and whether it is an unimplemented import."""
        super().__init__(message)
        self.message = message
        self.interface = interface
        self.function = function
        self.unimplemented = unimplemented
        self.cause = cause


def wit_signature(fty: Any) -> str:
    """``func(name: type, ...) -> type`` for a wasmtime FuncType."""
    params = ", ".join(f"{n}: {type_name(t, limit=None)}" for n, t in fty.params)
    result = fty.result
    return f"func({params})" + ("" if result is None else f" -> {type_name(result, limit=None)}")


def _uuid_record(u: Uuid) -> wc.Record:
    r = wc.Record()
    setattr(r, "high-bits", u.high_bits)
    setattr(r, "low-bits", u.low_bits)
    return r


def promise_record(pid: PromiseId) -> wc.Record:
    """The WIT promise-id record of a PromiseId."""
    component = wc.Record()
    setattr(component, "uuid", _uuid_record(pid.worker_id.component_id.uuid))
    worker = wc.Record()
    setattr(worker, "component-id", component)
    setattr(worker, "worker-name", pid.worker_id.worker_name)
    record = wc.Record()
    setattr(record, "worker-id", worker)
    setattr(record, "oplog-idx", pid.oplog_idx)
    return record


def promise_from_record(r: Any) -> PromiseId:
    """The PromiseId of a WIT promise-id record (InvalidId if the worker name breaks Golem's rule)."""
    worker = getattr(r, "worker-id")
    uuid = getattr(getattr(worker, "component-id"), "uuid")
    component = ComponentId(Uuid(getattr(uuid, "high-bits"), getattr(uuid, "low-bits")))
    return PromiseId(WorkerId(component, getattr(worker, "worker-name")), getattr(r, "oplog-idx"))


class Linked:
    """The host side of one instance: its worker, and the error of the host call that trapped."""

    def __init__(self, worker: Worker) -> None:
        """The worker the instance's promise calls act for."""
        self.worker = worker
        self.error: Optional[HostCallError] = None
        self.calls = 0
        #: The promise an await-promise call is blocked on right now (read by other threads).
        self.awaiting: Optional[PromiseId] = None
        #: Set by the invocation's SIGINT handler: the next or current await gives up.
        self.interrupted = False
        #: An error from recording the component's output (raised when the call returns).
        self.output_error: Optional[BaseException] = None
        #: The promise-id result template of the fast callbacks (_fastcall), once made.
        self.templates: List[Any] = []
        #: Whether the promise functions were registered through _fastcall.
        self.fast = False

    def durable(self, function: str, live: Callable[[], _T], encode: Callable[[_T], bytes], decode: Callable[[bytes], _T]) -> _T:
        """A host call whose answer varies: answered from the oplog while the worker replays,
        else computed and recorded (Golem's ImportedFunctionInvoked)."""
        return self.durable_replayed(function, live, encode, decode)[0]

    def durable_replayed(self, function: str, live: Callable[[], _T], encode: Callable[[_T], bytes], decode: Callable[[bytes], _T]) -> Tuple[_T, bool]:
        """:meth:`durable`, and whether the answer came from the oplog (True) or was live."""
        recorded = self.worker._replay_call(_IMPORTED, function, b"")
        if recorded is not None:
            return decode(recorded[1]), True
        value = live()
        self.worker._record_call(_IMPORTED, function, encode(value))
        return value, False

    def output(self, stream: str, data: bytes) -> bool:
        """The component wrote ``data`` on ``stream``: True if it is to be written out (live,
        and recorded so that a replay knows it was), False if a replay met it again."""
        function = f"wasi:cli/{stream}#write"
        try:
            if self.worker._replay_call(_IMPORTED, function, b"") is not None:
                return False
            self.worker._record_call(_IMPORTED, function, data)
        except BaseException as e:  # a callback cannot raise into wasmtime: raised after the call
            if self.output_error is None:
                self.output_error = e
        return True

    def fail(self, error: HostCallError) -> wasmtime.WasmtimeError:
        """Records why the call traps and returns the binding's error to raise."""
        self.error = error
        return wasmtime.WasmtimeError(error.message)


def _promise_functions(linked: Linked) -> Dict[str, Callable[..., Any]]:
    worker = linked.worker

    def create(_store: Any) -> wc.Record:
        return promise_record(worker.create_promise())

    def await_(_store: Any, pid: Any) -> bytes:
        return _await(linked, promise_from_record(pid))

    def poll(_store: Any, pid: Any) -> Optional[bytes]:
        return worker.poll_promise(promise_from_record(pid))

    def complete(_store: Any, pid: Any, data: bytes) -> bool:
        return worker.complete_promise(promise_from_record(pid), bytes(data))

    def delete(_store: Any, pid: Any) -> None:
        worker.delete_promise(promise_from_record(pid))

    def oplog_index(_store: Any) -> int:
        return worker.get_oplog_index()

    return {
        "create-promise": create,
        "await-promise": await_,
        "poll-promise": poll,
        "complete-promise": complete,
        "delete-promise": delete,
        "get-oplog-index": oplog_index,
    }


def _fast_promise_functions(linked: Linked) -> Dict[str, Callable[[Any, int, Any], None]]:
    """The promise functions as _fastcall callbacks: the same calls as _promise_functions, the
    values read and written in their known C shapes."""
    worker = linked.worker
    own = worker.worker_id
    own_key = (own.component_id.uuid.high_bits, own.component_id.uuid.low_bits, own.worker_name)
    template: List[_fastcall.PromiseTemplate] = []
    linked.templates = template  # freed with the instance

    def promise(args: Any, i: int) -> PromiseId:
        high, low, name, idx = _fastcall.read_promise_id(args[i])
        if (high, low, name) == own_key:
            return PromiseId(own, idx)
        return PromiseId(WorkerId(ComponentId(Uuid(high, low)), name), idx)

    def create(args: Any, nargs: int, results: Any) -> None:
        pid = worker.create_promise()
        if not template:
            template.append(_fastcall.PromiseTemplate(*own_key))
        template[0].write(results, pid.oplog_idx)

    def await_(args: Any, nargs: int, results: Any) -> None:
        _fastcall.write_bytes(results[0], _await(linked, promise(args, 0)))

    def poll(args: Any, nargs: int, results: Any) -> None:
        _fastcall.write_option_bytes(results[0], worker.poll_promise(promise(args, 0)))

    def complete(args: Any, nargs: int, results: Any) -> None:
        try:
            pid = promise(args, 0)
        finally:
            data = _fastcall.read_bytes(args[1])  # freed whatever happened to the first
        _fastcall.write_bool(results[0], worker.complete_promise(pid, data))

    def delete(args: Any, nargs: int, results: Any) -> None:
        worker.delete_promise(promise(args, 0))

    def oplog_index(args: Any, nargs: int, results: Any) -> None:
        _fastcall.write_u64(results[0], worker.get_oplog_index())

    return {
        "create-promise": create,
        "await-promise": await_,
        "poll-promise": poll,
        "complete-promise": complete,
        "delete-promise": delete,
        "get-oplog-index": oplog_index,
    }


def _await(linked: Linked, promise: PromiseId) -> bytes:
    """await-promise for the instance: in slices, so a Ctrl-C recorded by the invocation ends
    the wait (a timed-out await is not recorded in the oplog; the one that returns is)."""
    linked.awaiting = promise
    try:
        while True:
            if linked.interrupted:
                raise KeyboardInterrupt
            try:
                return linked.worker.await_promise(promise, _AWAIT_SLICE)
            except TimeoutError:
                continue
    finally:
        linked.awaiting = None


#: Set (to anything) to register the promise functions through the binding's generic
#: conversion instead of _fastcall (for comparison: bench/bench_components.py).
GENERIC_CALLS_ENV = "GOLEM_PROMISE_GENERIC_HOST_CALLS"


def _guarded(linked: Linked, interface: str, name: str, fn: Callable[..., Any], count: bool = True) -> Callable[..., Any]:
    """``fn`` with every failure turned into a trap whose cause the instance keeps."""

    def call(store: Any, *args: Any) -> Any:
        if count:
            linked.calls += 1
        try:
            return fn(store, *args)
        except GolemPromiseError as e:
            kind = type(e).__name__
            raise linked.fail(HostCallError(f"{interface}#{name}: {kind}: {e.message}", interface=interface, function=name, unimplemented=False, cause=e)) from None
        except Exception as e:  # anything else from our side (bad worker name in a record, ...)
            raise linked.fail(HostCallError(f"{interface}#{name}: {type(e).__name__}: {e}", interface=interface, function=name, unimplemented=False, cause=e)) from None
        except BaseException as e:
            # Ctrl-C while awaiting: a Python callback must not let it escape into wasmtime,
            # so it unwinds the component as a trap and is raised again by invoke().
            raise linked.fail(HostCallError(f"{interface}#{name}: interrupted", interface=interface, function=name, unimplemented=False, cause=e)) from None

    return call


def _durable_wasi(linked: Linked, interface: str, name: str) -> Callable[..., Any]:
    """A WASI function of DURABLE_WASI, recorded and replayed through the worker's oplog."""
    _sig, golem_name, live, encode, decode = DURABLE_WASI[interface][name]
    datetime = interface == "wasi:clocks/wall-clock"

    def call(_store: Any, *args: Any) -> Any:
        value = linked.durable(golem_name, lambda: live(*args), encode, decode)
        return _datetime(*value) if datetime else value

    return call


def _trap(linked: Linked, interface: str, name: str, why: str) -> Callable[..., Any]:
    label = f"{interface}#{name}" if interface else name

    def call(_store: Any, *_args: Any) -> Any:
        linked.calls += 1
        raise linked.fail(HostCallError(f"{label}: {why}", interface=interface, function=name, unimplemented=True))

    return call


_NOT_IMPLEMENTED = "golem-promise does not implement this import (it implements Golem's promise functions and WASI p2)"


def _log(_store: Any, level: Any, context: str, message: str) -> None:
    # wasi:logging, which Golem's Rust and TypeScript SDKs use: printed on stderr.
    tag = level if isinstance(level, str) else getattr(level, "tag", str(level))
    prefix = f"[{tag}] {context}: " if context else f"[{tag}] "
    sys.stderr.write(prefix + message + "\n")
    sys.stderr.flush()


class ImportPlan(NamedTuple):
    """How each import of a component is defined: worked out once per component from its import
    list, then applied to a fresh linker for every instance.

    ``instances`` holds, per imported interface, its members as (name, how, detail): ``how`` is
    ``resource`` (detail: the host resource id), ``promise`` (a promise function whose
    signature matched), ``log`` (wasi:logging's log), ``durable`` (a WASI function of
    DURABLE_WASI; detail: its interface), ``timer`` (monotonic-clock's subscribe functions) or
    ``trap`` (detail: why).
    """

    root_traps: List[str]
    instances: List[Tuple[str, List[Tuple[str, str, Any]]]]
    traps: List[str]


def plan_imports(engine: wasmtime.Engine, imports: Dict[str, Any]) -> ImportPlan:
    """The ImportPlan of a component's imports (``Component.type.imports``)."""
    root_traps: List[str] = []
    instances: List[Tuple[str, List[Tuple[str, str, Any]]]] = []
    traps: List[str] = []
    seen_resources: List[Any] = []
    resource_id = 0
    for name, ext in imports.items():
        ty = ext.ty
        if _WASI_P2.match(name):
            if isinstance(ty, wc.ComponentInstanceType):
                wasi_members = ty.exports(engine)
                seen_resources.extend(e.ty for e in wasi_members.values() if isinstance(e.ty, wc.ResourceType))
                versioned = _WASI_VERSIONED.match(name)
                table = DURABLE_WASI.get(versioned.group(1)) if versioned else None
                # The component imports only the functions it uses; types come along and need no
                # definition.  Taken over only if every function it imports is one of ours.
                funcs = {k: e.ty for k, e in wasi_members.items() if isinstance(e.ty, wc.FuncType)}
                timers = versioned is not None and versioned.group(1) == _MONOTONIC and any(k in _SUBSCRIBE for k in funcs)

                def ours(k: str, t: Any) -> bool:
                    if timers and k in _SUBSCRIBE:
                        return wit_signature(t) == _SUBSCRIBE[k]
                    return table is not None and k in table and wit_signature(t) == table[k][0]

                if (
                    table is not None
                    and versioned is not None
                    and funcs
                    # the one resource a monotonic clock may carry is wasi:io's pollable, which
                    # wasmtime's wasi:io/poll defines (as in golem:rpc below)
                    and (timers or not any(isinstance(e.ty, wc.ResourceType) for e in wasi_members.values()))
                    and all(ours(k, t) for k, t in funcs.items())
                ):
                    instances.append((name, [(k, "timer" if k in _SUBSCRIBE else "durable", versioned.group(1)) for k in funcs]))
            continue
        if isinstance(ty, wc.FuncType):
            root_traps.append(name)
            traps.append(name)
            continue
        if not isinstance(ty, wc.ComponentInstanceType):
            continue  # types need no definition; modules and components are not imported by Golem components
        golem_host = bool(GOLEM_HOST.match(name))
        members: List[Tuple[str, str, Any]] = []
        for member, mext in ty.exports(engine).items():
            mty = mext.ty
            if isinstance(mty, wc.ResourceType):
                # A resource another interface defines (wasi:io's pollable used by
                # golem:rpc/types) is the same type here: defining it again would not match.
                if any(mty == other for other in seen_resources):
                    continue
                resource_id += 1
                members.append((member, "resource", resource_id))
                seen_resources.append(mty)
            elif isinstance(mty, wc.FuncType):
                if golem_host and member in PROMISE_FUNCTIONS:
                    expected = PROMISE_FUNCTIONS[member]
                    actual = wit_signature(mty)
                    if actual == expected:
                        members.append((member, "promise", None))
                        continue
                    members.append((member, "trap", f"signature {actual} differs from Golem's {expected}"))
                elif name.startswith("wasi:logging/logging@") and member == "log" and len(mty.params) == 3:
                    members.append((member, "log", None))
                    continue
                else:
                    members.append((member, "trap", _NOT_IMPLEMENTED))
                traps.append(f"{name}#{member}")
        instances.append((name, members))
    return ImportPlan(root_traps, instances, traps)


def _timer(linked: Linked, name: str, subscribe: Callable[[Any, int], Any]) -> Callable[..., Any]:
    """monotonic-clock's subscribe-instant or subscribe-duration (see _SUBSCRIBE)."""
    worker = linked.worker

    def duration(store: Any, nanoseconds: int) -> Any:
        # Live: the clock reading it starts from is recorded, as Golem does.  Replay: the
        # reading is taken from the oplog, and the timer is already due.
        _start, replayed = linked.durable_replayed("monotonic_clock::now", time.monotonic_ns, _U64.pack, lambda b: _U64.unpack(b)[0])
        return subscribe(store, 0 if replayed else nanoseconds)

    def instant(store: Any, when: int) -> Any:
        # `when` is on the clock the component reads (ours: time.monotonic_ns, recorded), not
        # on wasmtime's, so it becomes a duration from now.
        if worker.is_replaying:
            return subscribe(store, 0)
        return subscribe(store, max(0, when - time.monotonic_ns()))

    return instant if name == "subscribe-instant" else duration


def link(linker: wc.Linker, plan: ImportPlan, linked: Linked, engine: Optional[wasmtime.Engine] = None, store: Optional[wasmtime.Store] = None) -> None:
    """Defines every import of the plan in ``linker``, acting for ``linked``'s worker.

    A plan with monotonic-clock timers needs the ``engine`` and the ``store`` (with WASI set)
    the instance will live in: their pollables come from a helper instance in that store.
    """
    linker.add_wasip2()
    # The durable WASI interfaces replace wasmtime's under the component's own version.
    linker.allow_shadowing = True
    linked.fast = _fastcall.available() and not os.environ.get(GENERIC_CALLS_ENV)
    # One table: the fast callbacks, or the binding's generic ones.
    promise_fns = _fast_promise_functions(linked) if linked.fast else _promise_functions(linked)
    subscribe: Optional[Callable[[Any, int], Any]] = None
    if any(how == "timer" for _iface, members in plan.instances for _m, how, _d in members):
        if engine is None or store is None:
            raise ValueError("a component importing monotonic-clock timers is linked with its engine and store")
        subscribe = _pollables.timers(engine, store)
    with linker.root() as root:
        for name in plan.root_traps:
            root.add_func(name, _trap(linked, "", name, _NOT_IMPLEMENTED))
        for iface, members in plan.instances:
            with root.add_instance(iface) as inst:
                for member, how, detail in members:
                    if how == "resource":
                        inst.add_resource(member, wc.ResourceType.host(detail), lambda _store, _rep: None)
                    elif how == "promise":
                        fn = _guarded(linked, iface, member, promise_fns[member])
                        if linked.fast:
                            _fastcall.add_func(inst, member, fn)
                        else:
                            inst.add_func(member, fn)
                    elif how == "log":
                        inst.add_func(member, _log)
                    elif how == "timer":
                        assert subscribe is not None
                        inst.add_func(member, _guarded(linked, iface, member, _timer(linked, member, subscribe), count=False))
                    elif how == "durable":
                        inst.add_func(member, _guarded(linked, iface, member, _durable_wasi(linked, detail, member), count=False))
                    else:
                        inst.add_func(member, _trap(linked, iface, member, detail))


def split_export(name: str) -> Tuple[Optional[str], str]:
    """``golem:it/api.{create}`` -> (``golem:it/api``, ``create``); a bare ``create`` -> (None, ``create``).

    Also takes ``golem:it/api/create`` and ``golem:it/api.create``.
    """
    m = re.fullmatch(r"(.+?)\.\{([^{}]+)\}", name)
    if m:
        return m.group(1), m.group(2)
    m = re.fullmatch(r"([^/]+:[^/]+/[^./{}]+(?:@[^/{}]+)?)[./]([^./{}@]+)", name)
    if m:
        return m.group(1), m.group(2)
    return None, name
