"""Run real Golem components (WebAssembly importing ``golem:api/host``) against golem-promise.

A component built for Golem (componentize-py, cargo-component, ...) is loaded from its file,
its promise imports are linked to a golem-promise :class:`~golem_promise.Worker`, WASI p2 comes
from wasmtime, and every other import traps with a message naming it::

    from golem_promise import Host
    from golem_promise.components import load_component

    component = load_component("approval.wasm")          # compiled once, then cached on disk
    with Host("approvals.db") as host:
        worker = host.worker(component.component_id, "approval-1")
        with component.instantiate(worker) as instance:
            result = instance.invoke("golem:it/api.{run-approval}", ["order-7"])

Arguments and results are JSON values typed by the export's WIT signature, written as Golem's
REST API writes them (docs/components.md).  An invocation runs on the calling thread; while it
awaits a promise, any thread or process (``golem-promise complete``, the HTTP endpoint, another
component) completes it.
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import fcntl
import gc
import hashlib
import json
import os
import signal
import sys
import threading
import time
import uuid as _uuid
import weakref
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Protocol, Sequence, Set, Tuple, Union

import wasmtime
from wasmtime import component as wc

from .. import _core
from .._errors import GolemPromiseError, NonDeterminismError
from .._host import Host, Worker
from .._ids import ComponentId, PromiseId, WorkerId
from ._cache import CACHE_ENV, cache_key, default_cache_dir, read_cached, write_cached
from ._link import GOLEM_HOST, HostCallError, Linked, link, plan_imports, split_export, wit_signature
from ._values import ArgumentError, args_from_json, to_json

__all__ = [
    "Component",
    "ComponentInstance",
    "ComponentError",
    "InvalidComponent",
    "ExportNotFound",
    "InvalidArguments",
    "ComponentTrap",
    "UnimplementedImport",
    "WorkerBusy",
    "RecordedInvocation",
    "load_component",
    "recorded_invocations",
    "default_cache_dir",
    "CACHE_ENV",
]


class ComponentError(GolemPromiseError):
    """Base class of the errors of running components."""


class InvalidComponent(ComponentError):
    """The file is missing, unreadable, not a WebAssembly component, or cannot be compiled."""


class ExportNotFound(ComponentError, LookupError):
    """The component exports no function of that name; ``available`` lists the ones it has."""

    def __init__(self, message: str, available: Sequence[str] = ()) -> None:
        """The message and the export names the component does have."""
        super().__init__(message)
        self.available = list(available)


class InvalidArguments(ComponentError, ValueError):
    """JSON arguments that do not fit the export's WIT signature; the message names the parameter."""


class ComponentTrap(ComponentError):
    """The invocation trapped: a WebAssembly trap, an uncaught exception in the component, or a
    failing host call.  ``component_message`` is the last line the component wrote on stderr
    before trapping (for componentize-py, the exception's ``Type: message``), if any.
    """

    def __init__(self, message: str, component_message: Optional[str] = None) -> None:
        """The trap's one-line description and what the component last said on stderr."""
        super().__init__(message)
        self.component_message = component_message


class UnimplementedImport(ComponentTrap):
    """The component called an import golem-promise does not implement; ``function`` names it
    (``interface#function``)."""

    def __init__(self, message: str, function: str) -> None:
        """The trap's message and the ``interface#function`` called."""
        super().__init__(message)
        self.function = function


class WorkerBusy(ComponentError):
    """Another instance (in this process or another) is running the same worker: a worker runs
    in one place at a time.  ``pid`` is the other process's id when it is known."""

    def __init__(self, message: str, pid: Optional[int] = None) -> None:
        """The message and the process that holds the worker."""
        super().__init__(message)
        self.pid = pid


_INVOKED = _core.OPLOG_EXPORTED_FUNCTION_INVOKED
_COMPLETED = _core.OPLOG_EXPORTED_FUNCTION_COMPLETED


def _canonical(value: Any) -> bytes:
    """Compact UTF-8 JSON with sorted keys: recorded bytes that compare equal for equal values."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False, allow_nan=False).encode("utf-8")


class RecordedInvocation(NamedTuple):
    """An invocation as the worker's oplog records it (Golem's ExportedFunctionInvoked and
    ExportedFunctionCompleted): the export, its JSON arguments and idempotency key, and how it
    ended (``{"ok": result}`` or ``{"trap": message}`` as JSON), None if it never did (the
    process running it was killed, or it was interrupted)."""

    export: str
    args: List[Any]
    idempotency_key: str
    request: bytes
    outcome: Optional[bytes]
    oplog_idx: int


def recorded_invocations(host: Host, worker_id: WorkerId) -> List[RecordedInvocation]:
    """The invocations recorded in the worker's oplog, in order."""
    out: List[RecordedInvocation] = []
    # Only the invocation entries' function and bytes are read: a worker's oplog holds many more
    # records of host calls and output.
    for entry in host._oplog_entries(worker_id):
        if entry.kind == "exported-function-invoked":
            function, data = host._oplog_call(worker_id, entry.oplog_idx)
            try:
                request = json.loads(data)
                args, key = list(request["args"]), str(request["idempotency_key"])
            except (ValueError, KeyError, TypeError):
                raise ComponentError(f"oplog entry {entry.oplog_idx} of worker {worker_id} is not an invocation this runner recorded") from None
            out.append(RecordedInvocation(function, args, key, data, None, entry.oplog_idx))
        elif entry.kind == "exported-function-completed" and out and out[-1].outcome is None:
            out[-1] = out[-1]._replace(outcome=host._oplog_call(worker_id, entry.oplog_idx)[1])
    return out


class _WorkerLock:
    """One instance runs a worker at a time: a lock per worker, held while an instance is open.

    File hosts: an exclusive flock on ``<db>-gpworkers/<hash of the worker id>.lock`` (released
    by the kernel if the process dies), which records the holder's pid for the message.
    In-memory hosts are private to their process: a set of the workers held.
    """

    _held: Set[Tuple[int, WorkerId]] = set()
    _held_lock = threading.Lock()
    # Each host object gets a serial number for the key: id(host) is reused once a host is
    # freed, and an instance that was never closed keeps its entry until it is collected.
    _serials: "weakref.WeakKeyDictionary[Host, int]" = weakref.WeakKeyDictionary()
    _next_serial = 0

    def __init__(self, worker: Worker) -> None:
        """Takes the lock or raises WorkerBusy."""
        self._fd: Optional[int] = None
        self._key: Optional[Tuple[int, WorkerId]] = None
        host = worker.host
        wid = worker.worker_id
        with _WorkerLock._held_lock:
            serial = _WorkerLock._serials.get(host)
            if serial is None:
                _WorkerLock._next_serial += 1
                serial = _WorkerLock._serials[host] = _WorkerLock._next_serial
            key = (serial, wid)
            if key in _WorkerLock._held:
                raise WorkerBusy(f"worker {wid} is already running in this process (close its other instance first)", os.getpid())
            _WorkerLock._held.add(key)
        self._key = key
        if host.path == ":memory:":
            return
        try:
            folder = Path(host.path + "-gpworkers")
            folder.mkdir(exist_ok=True)
            name = hashlib.sha256(str(wid).encode("utf-8")).hexdigest()[:32] + ".lock"
            fd = os.open(folder / name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as e:
            self.release()
            raise ComponentError(f"cannot take the run lock of worker {wid}: {e.strerror or e}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            holder: Optional[int] = None
            try:
                holder = int(os.pread(fd, 32, 0).decode().strip() or "0") or None
            except (OSError, ValueError):
                pass
            os.close(fd)
            self.release()
            if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
                who = f"process {holder}" if holder else "another process"
                raise WorkerBusy(f"worker {wid} is already running in {who}: a worker runs in one place at a time", holder) from None
            raise ComponentError(f"cannot take the run lock of worker {wid}: {e.strerror or e}") from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        """Lets the worker go (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # drops the flock
            self._fd = None
        if self._key is not None:
            with _WorkerLock._held_lock:
                _WorkerLock._held.discard(self._key)
            self._key = None


class BinaryOutput(Protocol):
    """Where a component's stdout or stderr goes: any binary stream (``sys.stdout.buffer``, a file)."""

    def write(self, data: bytes, /) -> Any:
        """Writes the bytes."""

    def flush(self) -> Any:
        """Flushes what was written."""


_ENGINE: Optional[wasmtime.Engine] = None
_ENGINE_LOCK = threading.Lock()


def _engine() -> wasmtime.Engine:
    """One engine per process: compiled components are shared by every instance made from them."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None:
            _ENGINE = wasmtime.Engine()
        return _ENGINE


class _Export(NamedTuple):
    """Where an exported function is: its instance (None at the root), its name, its type."""

    interface: Optional[str]
    function: str
    type: Any


def _export_names(engine: wasmtime.Engine, ctype: Any) -> Dict[str, _Export]:
    """Every exported function: ``name`` at the root, ``iface.{name}`` inside an exported instance."""
    out: Dict[str, _Export] = {}
    for name, ext in ctype.exports(engine).items():
        ty = ext.ty
        if isinstance(ty, wc.FuncType):
            out[name] = _Export(None, name, ty)
        elif isinstance(ty, wc.ComponentInstanceType):
            if name == "exports":  # componentize-py's own initialiser, not the user's code
                continue
            for member, mext in ty.exports(engine).items():
                # Resource constructors and methods ([constructor]x, [method]x.y) are not invoked.
                if isinstance(mext.ty, wc.FuncType) and not member.startswith("["):
                    out[f"{name}.{{{member}}}"] = _Export(name, member, mext.ty)
    return out


class Component:
    """A compiled component: its imports, exports and WIT signatures.  Make with :func:`load_component`."""

    def __init__(self, path: Path, wasm_sha256: str, compiled: wc.Component, *, from_cache: bool, compile_seconds: float) -> None:
        """Use :func:`load_component`."""
        self._path = path
        self._sha256 = wasm_sha256
        self._compiled = compiled
        self._engine = _engine()
        ctype = compiled.type
        self._imports = ctype.imports(self._engine)
        self._plan = plan_imports(self._engine, self._imports)  # applied to every instance's linker
        self._exports = _export_names(self._engine, ctype)
        self.from_cache = from_cache
        self.compile_seconds = compile_seconds

    @property
    def path(self) -> Path:
        """The component file."""
        return self._path

    @property
    def sha256(self) -> str:
        """The SHA-256 of the component file's bytes (hex)."""
        return self._sha256

    @property
    def component_id(self) -> ComponentId:
        """A component id derived from the file's hash (stable for the same bytes), for workers
        of this component when the caller has no id of its own."""
        return ComponentId.from_uuid(_uuid.UUID(bytes=bytes.fromhex(self._sha256[:32]), version=4))

    @property
    def imports(self) -> List[str]:
        """The names of the component's imports (interfaces such as ``golem:api/host@1.1.7``)."""
        return list(self._imports)

    @property
    def golem_host_versions(self) -> List[str]:
        """The ``golem:api/host`` 1.1.x interfaces the component imports (usually one)."""
        return [n for n in self._imports if GOLEM_HOST.match(n)]

    @property
    def exports(self) -> Dict[str, str]:
        """Every callable export by the name :meth:`ComponentInstance.invoke` takes, with its WIT signature."""
        return {name: wit_signature(export.type) for name, export in self._exports.items()}

    def resolve_export(self, name: str) -> str:
        """The canonical export name (``iface.{fn}``) for ``name``; ExportNotFound if there is none."""
        if name in self._exports:
            return name
        iface, fn = split_export(name)
        candidates = [f"{iface}.{{{fn}}}"] if iface else [n for n in self._exports if n.endswith(f".{{{fn}}}")]
        found = [c for c in candidates if c in self._exports]
        if len(found) == 1:
            return found[0]
        available = sorted(self._exports)
        if len(found) > 1:
            raise ExportNotFound(f"export {name!r} is ambiguous: {', '.join(sorted(found))}", available)
        listed = ", ".join(available) if available else "none"
        raise ExportNotFound(f"the component exports no function {name!r} (it exports: {listed})", available)

    def instantiate(
        self,
        worker: Worker,
        *,
        stdout: Optional[BinaryOutput] = None,
        stderr: Optional[BinaryOutput] = None,
    ) -> ComponentInstance:
        """A new instance whose promise calls act for ``worker``.

        The component's stdout and stderr go to ``stdout`` / ``stderr`` (binary streams;
        default: this process's).  Instantiating calls no import.
        """
        return ComponentInstance(self, worker, stdout=stdout, stderr=stderr)

    def __repr__(self) -> str:
        return f"Component({str(self._path)!r}, sha256={self._sha256[:12]}..., from_cache={self.from_cache})"


def load_component(
    path: Union[str, "os.PathLike[str]"],
    *,
    cache: bool = True,
    cache_dir: Union[str, "os.PathLike[str]", None] = None,
    progress: Optional[Callable[[str], None]] = None,
) -> Component:
    """Loads and compiles the component at ``path``.

    Compiled code is cached in ``cache_dir`` (default :func:`default_cache_dir`: the folder
    ``$GOLEM_PROMISE_CACHE_DIR``, else ``$XDG_CACHE_HOME/golem-promise/components``, else
    ``~/.cache/golem-promise/components``), keyed by the file's SHA-256 and the wasmtime version,
    so a later load of the same bytes skips compiling.  ``cache=False`` neither reads nor writes
    it.  ``progress`` is called with a line before and after a compile (which takes seconds).
    InvalidComponent if the file cannot be read or is not a valid component.
    """
    file = Path(os.fspath(path))
    try:
        wasm = file.read_bytes()
    except OSError as e:
        raise InvalidComponent(f"cannot read component {str(file)!r}: {e.strerror or e}") from None
    source: Union[bytes, str] = wasm
    if wasm[:4] != b"\0asm":
        # The component text format, as wasm-tools prints it, compiles as it is.
        try:
            text = wasm.decode("utf-8")
        except UnicodeDecodeError:
            text = ""
        if not text.lstrip().startswith(("(component", ";;")):
            raise InvalidComponent(f"{str(file)!r} is not a WebAssembly component (no \\0asm header, nor component text)")
        source = text
    if len(wasm) >= 8 and wasm[4:8] == b"\x01\x00\x00\x00":
        raise InvalidComponent(f"{str(file)!r} is a core WebAssembly module, not a component (build it with componentize-py, cargo component or wasm-tools component new)")
    engine = _engine()
    digest = hashlib.sha256(wasm).hexdigest()
    folder = Path(os.fspath(cache_dir)) if cache_dir is not None else default_cache_dir()
    key = cache_key(digest)
    if cache:
        cached = read_cached(folder, key)
        if cached is not None:
            # Read into memory rather than deserialize_file's mapping: a cache file truncated
            # or rewritten in place while mapped would kill the process with SIGBUS.
            try:
                compiled = wc.Component.deserialize(engine, cached.read_bytes())
                return Component(file, digest, compiled, from_cache=True, compile_seconds=0.0)
            except (wasmtime.WasmtimeError, OSError):
                pass  # a damaged, foreign or unreadable cache file: compile again and replace it
    if progress is not None:
        progress(f"compiling {file.name} ({len(wasm) / 1e6:.1f} MB); the compiled code is cached for later starts" if cache else f"compiling {file.name} ({len(wasm) / 1e6:.1f} MB)")
    start = time.monotonic()
    try:
        compiled = wc.Component(engine, source)
    except wasmtime.WasmtimeError as e:
        raise InvalidComponent(f"{str(file)!r} is not a valid component: {_first_line(e)}") from None
    seconds = time.monotonic() - start
    if progress is not None:
        progress(f"compiled {file.name} in {seconds:.1f} s")
    if cache:
        write_cached(folder, key, bytes(compiled.serialize()))
    return Component(file, digest, compiled, from_cache=False, compile_seconds=seconds)


class _Output:
    """A component's stdout or stderr: passed on as written, the last lines kept for trap messages."""

    def __init__(self, sink: Optional[BinaryOutput], fallback: Callable[[], BinaryOutput]) -> None:
        self._sink = sink
        self._fallback = fallback
        self.tail = b""
        #: Says whether a write goes out: False for output a replay meets again (Linked.output).
        self.gate: Optional[Callable[[bytes], bool]] = None

    def write(self, data: bytes) -> None:
        data = bytes(data)
        if self.gate is not None and not self.gate(data):
            self.tail = (self.tail + data)[-4096:]
            return
        sink = self._sink if self._sink is not None else self._fallback()
        sink.write(data)
        sink.flush()
        self.tail = (self.tail + data)[-4096:]

    def what_it_said(self) -> Optional[str]:
        """The exception line of the last Python traceback written, else the last line.

        componentize-py prints the traceback and then its runtime's panic note; the
        exception's ``Type: message`` is the first unindented line after "Traceback".
        """
        lines = [ln.rstrip() for ln in self.tail.decode("utf-8", "replace").splitlines() if ln.strip()]
        for i in range(len(lines) - 1, -1, -1):
            if lines[i].startswith("Traceback (most recent call last):"):
                for line in lines[i + 1 :]:
                    if not line[:1].isspace():
                        return line
                break
        return lines[-1].strip() if lines else None


def _stdout() -> BinaryOutput:
    return sys.stdout.buffer


def _stderr() -> BinaryOutput:
    return sys.stderr.buffer


@contextlib.contextmanager
def _sigint_recorded(linked: Linked) -> Iterator[None]:
    """While a component runs on the main thread, Ctrl-C is recorded instead of raised.

    Python raises KeyboardInterrupt at whatever line runs next, which during an invocation may be
    inside the binding's callback machinery, where it cannot unwind through wasmtime.  Recorded,
    it ends a waiting await-promise (which traps back out of the component) or is raised when
    the call returns.  A second Ctrl-C is raised as usual.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return

    def record(signum: int, frame: Any) -> None:
        if linked.interrupted:
            signal.default_int_handler(signum, frame)
        linked.interrupted = True

    previous = signal.signal(signal.SIGINT, record)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


# Instances still open when the interpreter exits are closed first: dropping a store flushes
# the component's output through our Python callbacks, which a finalizing interpreter cannot run.
_LIVE: "weakref.WeakSet[ComponentInstance]" = weakref.WeakSet()


@atexit.register
def _close_live_instances() -> None:
    for instance in list(_LIVE):
        instance.close()
    gc.collect()  # stores held only by reference cycles go now too


class ComponentInstance:
    """One instance of a component acting for one worker.  Invocations run one at a time.

    An instance keeps its memory between invocations, as a Golem worker does.  After a trap a
    WebAssembly instance refuses further calls, so the next :meth:`invoke` starts a fresh one
    (the component's in-memory state is lost; the worker's oplog and promises stay).
    """

    def __init__(self, component: Component, worker: Worker, *, stdout: Optional[BinaryOutput] = None, stderr: Optional[BinaryOutput] = None) -> None:
        """Use :meth:`Component.instantiate`."""
        self._component = component
        self._worker = worker
        self._stdout = _Output(stdout, _stdout)
        self._stderr = _Output(stderr, _stderr)
        self._lock = threading.Lock()
        self._recovered = False
        self._recovery_error: Optional[BaseException] = None
        self._resumed: Optional[Tuple[RecordedInvocation, bytes]] = None
        self._outcomes: Dict[str, bytes] = {}  # by idempotency key
        self._instance: Optional[wc.Instance] = None
        self._store: Optional[wasmtime.Store] = None
        self._linked: Optional[Linked] = None
        #: The imports linked as traps (``interface#function``): what golem-promise does not implement.
        self.unimplemented_imports: List[str] = list(component._plan.traps)
        self._closed = False
        self._run_lock = _WorkerLock(worker)
        try:
            self._start()
        except BaseException:
            self._run_lock.release()
            raise
        _LIVE.add(self)

    def _start(self) -> None:
        engine = self._component._engine
        store = wasmtime.Store(engine)
        wasi = wasmtime.WasiConfig()
        wasi.stdout_custom = self._stdout.write
        wasi.stderr_custom = self._stderr.write
        store.set_wasi(wasi)
        linker = wc.Linker(engine)
        linked = Linked(self._worker)
        link(linker, self._component._plan, linked, engine, store)
        self._stdout.gate = lambda data: linked.output("stdout", data)
        self._stderr.gate = lambda data: linked.output("stderr", data)
        try:
            instance = linker.instantiate(store, self._component._compiled)
        except wasmtime.WasmtimeError as e:
            raise InvalidComponent(f"cannot instantiate {self._component.path.name}: {_first_line(e)}") from None
        self._store, self._instance, self._linked = store, instance, linked

    @property
    def worker(self) -> Worker:
        """The worker this instance's promise calls act for."""
        return self._worker

    @property
    def component(self) -> Component:
        """The component this is an instance of."""
        return self._component

    @property
    def awaiting_promise(self) -> Optional[PromiseId]:
        """The promise the running invocation is blocked on in await-promise, else None."""
        linked = self._linked
        return None if linked is None else linked.awaiting

    @property
    def host_calls(self) -> int:
        """How many host calls (Golem functions and stubs, not WASI) the current instance made."""
        return 0 if self._linked is None else self._linked.calls

    def invoke(self, export: str, args: Sequence[Any] = (), *, idempotency_key: Optional[str] = None) -> Any:
        """Calls ``export`` with JSON ``args`` and returns its result as JSON (None if it has none).

        ``export`` is ``iface.{fn}`` as Golem's CLI writes it (``golem:it/api.{create}``), or a
        bare function name when it is unambiguous.  Raises ExportNotFound, InvalidArguments
        (naming the parameter and its WIT type) or ComponentTrap / UnimplementedImport.

        Durable, as a Golem worker's invocations: the call and its result are recorded in the
        worker's oplog.  An instance over a worker opened in replay (``host.worker(...)``
        without ``live``) first replays the worker's recorded invocations (:meth:`resume`); an
        invocation that was cut off (its process killed while it awaited) is continued, and
        invoking it again (same export and arguments) returns its result instead of running it
        twice.  With an ``idempotency_key`` that a completed invocation of this worker was
        recorded with, its recorded result is returned (or its trap raised) without running.
        NonDeterminismError if the component no longer does what the oplog recorded.
        """
        if self._closed:
            raise ComponentError("the component instance is closed")
        name = self._component.resolve_export(export)
        target = self._component._exports[name]
        try:
            values = args_from_json(target.type.params, list(args))
        except ArgumentError as e:
            raise InvalidArguments(f"{name}: {e}") from None
        with self._lock:
            self._recover()
            if idempotency_key is not None and idempotency_key in self._outcomes:
                return self._outcome(self._outcomes[idempotency_key])
            resumed = self._resumed
            if resumed is not None and resumed[0].export == name and _canonical(resumed[0].args) == _canonical(list(args)) and idempotency_key in (None, resumed[0].idempotency_key):
                self._resumed = None
                return self._outcome(resumed[1])
            key = idempotency_key if idempotency_key is not None else str(_uuid.uuid4())
            request = _canonical({"args": list(args), "idempotency_key": key})
            outcome, result, error = self._execute(name, values, request, None)
            self._outcomes[key] = outcome
            if error is not None:
                raise error
            return result

    def resume(self) -> Optional[Any]:
        """Replays the worker's recorded invocations, if it was opened in replay and this has not
        run yet: each is run again with its host calls answered from the oplog (nothing is
        written and nothing printed), rebuilding the component's state as Golem's executor
        does.  An invocation cut off before it ended is then continued live where the oplog
        ends (an await that was waiting waits again, for the same promise); its result is
        returned (its trap raised), and remembered for an :meth:`invoke` of it.  None if there
        was none.  NonDeterminismError if the component diverges from the recording.
        """
        with self._lock:
            self._recover()
            resumed = self._resumed
            if resumed is None:
                return None
            return self._outcome(resumed[1])

    @property
    def resumed_invocation(self) -> Optional[RecordedInvocation]:
        """The invocation :meth:`resume` continued (cut off before it ended), until it is invoked again."""
        return None if self._resumed is None else self._resumed[0]

    def _recover(self) -> None:
        """Replays the recorded invocations once (self._lock held); a failure sticks."""
        if self._recovery_error is not None:
            raise self._recovery_error
        if self._recovered:
            return
        self._recovered = True
        try:
            history = recorded_invocations(self._worker.host, self._worker.worker_id)
            if not self._worker.is_replaying:
                # A live worker is not replayed, but its recorded outcomes still answer their keys.
                for rec in history:
                    if rec.outcome is not None:
                        self._outcomes[rec.idempotency_key] = rec.outcome
                return
            for rec in history:
                target = self._component._exports.get(rec.export)
                if target is None:
                    raise NonDeterminismError(f"non-deterministic replay of worker {self._worker.worker_id} at oplog index {rec.oplog_idx}: recorded exported-function-invoked({rec.export}), which this component does not export")
                try:
                    values = args_from_json(target.type.params, list(rec.args))
                except ArgumentError as e:
                    raise NonDeterminismError(f"non-deterministic replay of worker {self._worker.worker_id} at oplog index {rec.oplog_idx}: the recorded arguments of {rec.export} no longer fit it: {e}") from None
                outcome, _result, error = self._execute(rec.export, values, rec.request, rec)
                if isinstance(error, (KeyboardInterrupt, SystemExit)):
                    raise error
                self._outcomes[rec.idempotency_key] = outcome
                if rec.outcome is None:
                    self._resumed = (rec, outcome)
        except BaseException as e:
            if not isinstance(e, (KeyboardInterrupt, SystemExit)):
                self._recovery_error = e
            raise

    def _outcome(self, outcome: bytes) -> Any:
        """The result of a recorded outcome, or its trap raised."""
        data = json.loads(outcome)
        if "trap" in data:
            raise ComponentTrap(str(data["trap"]), data.get("said"))
        return data.get("ok")

    def _execute(self, name: str, values: List[Any], request: bytes, recorded: Optional[RecordedInvocation]) -> Tuple[bytes, Any, Optional[BaseException]]:
        """Runs the export once, its start and end recorded (or, replaying, matched with the
        recording): (outcome bytes, JSON result, the error to raise).  self._lock held."""
        worker = self._worker
        if worker._replay_call(_INVOKED, name, request) is None:
            worker._record_call(_INVOKED, name, request)
        target = self._component._exports[name]
        fty = target.type
        if self._instance is None:
            self._start()
        assert self._instance is not None and self._store is not None and self._linked is not None
        store, instance, linked = self._store, self._instance, self._linked
        parent = None if target.interface is None else instance.get_export_index(store, target.interface)
        index = instance.get_export_index(store, target.function, parent)
        func = instance.get_func(store, index) if index is not None else None
        if func is None:  # pragma: no cover - the type said it exists
            raise ExportNotFound(f"the component exports no function {name!r}", sorted(self._component._exports))
        linked.error = None
        linked.interrupted = False
        linked.output_error = None
        self._stderr.tail = b""
        trap: Optional[BaseException] = None
        result: Any = None
        with _sigint_recorded(linked):
            try:
                raw = func(store, *values)
                func.post_return(store)
                result = to_json(fty.result, raw)
            except wasmtime.WasmtimeError as e:
                trap = self._trap(name, e, linked.error)
        if trap is not None:
            # A trapped instance refuses every later call.  Its store goes now, while this
            # interpreter can still take the output it flushes: the binding's error (gone
            # with the except block) no longer holds the frames that reference it.
            self._instance = None
            self._store = None
            self._linked = None
            linked.error = None  # its cause's frames are the host call's
            del store, instance, func
        if isinstance(trap, (KeyboardInterrupt, SystemExit, NonDeterminismError)):
            # Cut off (Ctrl-C: it resumes on the next run) or diverged: no outcome recorded.
            raise trap
        if linked.output_error is not None:
            raise linked.output_error
        if linked.interrupted:  # Ctrl-C while the component ran without waiting
            raise KeyboardInterrupt
        if trap is not None:
            said = trap.component_message if isinstance(trap, ComponentTrap) else None
            outcome = _canonical({"trap": str(trap), "said": said})
            # A trap replays as a trap: its text (which names wasm addresses) is not compared.
            if recorded is not None and recorded.outcome is not None and b'"trap"' in recorded.outcome:
                outcome = recorded.outcome
        else:
            outcome = _canonical({"ok": result})
        if worker._replay_call(_COMPLETED, name, outcome) is None:
            worker._record_call(_COMPLETED, name, outcome)
        return outcome, result, trap

    def _trap(self, name: str, e: Exception, host_error: Optional[HostCallError]) -> BaseException:
        """What to raise for a failed call: a ComponentTrap, or a KeyboardInterrupt or SystemExit
        that unwound the component (a new one: the original's frames hold the store)."""
        if host_error is not None:
            cause = host_error.cause
            if cause is not None and not isinstance(cause, Exception):
                return type(cause)(*cause.args)
            if isinstance(cause, NonDeterminismError):
                return NonDeterminismError(cause.message)  # a new one: the original's frames hold the store
            if host_error.unimplemented:
                return UnimplementedImport(f"{name} trapped: {host_error.message}", f"{host_error.interface}#{host_error.function}" if host_error.interface else host_error.function)
            return ComponentTrap(f"{name} trapped in a host call: {host_error.message}")
        said = self._stderr.what_it_said()
        detail = _first_line(e)
        if said:
            return ComponentTrap(f"{name} trapped: {said} ({detail})", said)
        return ComponentTrap(f"{name} trapped: {detail}")

    def close(self) -> None:
        """Drops the WebAssembly instance (the worker stays open; close it or its Host separately)."""
        with self._lock:
            self._closed = True
            self._instance = None
            self._store = None
            self._run_lock.release()

    def __enter__(self) -> ComponentInstance:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ComponentInstance({self._component.path.name!r}, worker={self._worker.worker_id})"


def _first_line(e: Exception) -> str:
    """The reason in wasmtime's error text: the line after "Caused by:" (the backtrace before it
    is kept out of one-line messages), else its first line."""
    lines = [ln.strip() for ln in str(e).strip().splitlines() if ln.strip()]
    if "Caused by:" in lines:
        after = lines[lines.index("Caused by:") + 1 :]
        if after:
            return after[0]
    return lines[0] if lines else type(e).__name__

