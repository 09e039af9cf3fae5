"""Test helpers for worker code: does it survive a restart (durable execution, docs/replay.md)?

:func:`check_replay` runs a worker function live, then again replayed from the oplog of that run
(``worker.restart()``), and optionally once more per host call with a simulated crash right
after that call, and reports the first divergence.  A pytest fixture of the same name,
``check_replay`` (:func:`check_replay_fixture`, a :class:`ReplayChecker`), runs it and fails
the test on a divergence; golem-promise's pytest plugin (``golem_promise.pytest_plugin``)
registers it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import uuid as _uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator, List, Optional, Tuple, Type, TypeVar, Union

from ._errors import NonDeterminismError, PromiseNotFound
from ._host import BytesLike, ComponentIdLike, Host, OplogEntry, Pollable, PromiseIdLike, Worker
from ._ids import ComponentId, PromiseId, WorkerId

__all__ = ["check_replay", "ReplayReport", "ReplayChecker", "CompleteWith", "ExpectedErrors"]

#: The type of ``check_replay``'s ``complete_with``: the outside world's completions.  Called as
#: ``complete_with(host, promise_id)`` right before the function waits for a promise that is
#: still pending (an await, a pollable's ``block()``, ``aio.wait_ready``), in every run; it
#: should complete the promise, usually with ``host.complete_promise(promise_id, payload)``.
#: Its return value is ignored.
CompleteWith = Callable[[Host, PromiseId], object]

#: What ``check_replay``'s ``raises`` accepts: an exception class or a tuple of them.
ExpectedErrors = Union[Type[Exception], Tuple[Type[Exception], ...]]

_T = TypeVar("_T")

#: Component id of the workers check_replay creates unless told otherwise.
_COMPONENT = ComponentId.from_uuid(_uuid.UUID("c4ec4e91-0000-4000-8000-7e57ab1e0000"))


@dataclass(frozen=True)
class ReplayReport:
    """What :func:`check_replay` found.

    ``ok`` is True when every replay matched and the live run did not raise (or raised what
    ``raises`` allows).  Otherwise ``divergence`` describes the first problem: a mismatch, with
    ``crash_after`` saying which run found it (None: the plain replay after the live run; k:
    the run that crashed right after its k-th host call and was restarted), and for a
    non-determinism error ``error`` the exception and ``oplog_idx`` its oplog index; or a live
    run that raised something ``raises`` does not allow, in which case nothing was replayed
    (``runs`` is 1).  ``calls`` is the number of host calls of the live run (pollable checks
    included: they record nothing but are crash points), ``result`` what it returned (or the
    exception it raised, as text), ``live_error`` that exception itself, ``runs`` how many
    times the function ran.
    """

    ok: bool
    divergence: Optional[str]
    calls: int
    result: object = None
    runs: int = 0
    crash_after: Optional[int] = None
    oplog_idx: Optional[int] = None
    error: Optional[NonDeterminismError] = None
    live_error: Optional[Exception] = None

    def __bool__(self) -> bool:
        """True when no divergence was found."""
        return self.ok


class _SimulatedCrash(BaseException):
    """Raised after the k-th host call of a run to stop it as a crash would (not an Exception,
    so the function's own ``except Exception`` does not catch it)."""


class _Run:
    """Bookkeeping of one run of the function."""

    def __init__(self, crash_after: Optional[int]) -> None:
        self.crash_after = crash_after
        self.calls = 0
        self.waits = 0  # pollable checks among the calls: crash points, but never recorded
        self.crashed = False
        self.error: Optional[NonDeterminismError] = None
        self.raised: Optional[Exception] = None  # what the function raised, if it did


class _CheckedWorker(Worker):
    """The worker as the function sees it: each host call is counted, a NonDeterminismError is
    remembered even if the function swallows it, a crash is injected after call k, and pending
    promises get their outside completion right before they are awaited.

    Every way worker code can wait goes through the methods overridden here: the blocking and
    asyncio awaits (``aio.await_promise`` and ``await_promise_json`` call
    ``await_promise_async``), and the pollables of the worker's handles (``ready()``,
    ``block()``, ``aio.wait_ready``); ``get()`` of a handle is the worker's ``poll_promise``.
    """

    def __init__(
        self,
        inner: Worker,
        run: _Run,
        complete_with: Optional[CompleteWith],
        await_timeout: Optional[float],
    ) -> None:
        super().__init__(inner.host, inner._handle, inner.worker_id)
        self._run = run
        self._complete_with = complete_with
        self._await_timeout = await_timeout

    @contextlib.contextmanager
    def _counted(self, wait: bool = False) -> Iterator[None]:
        """Counts one host call made in the block (``wait``: a pollable check, not recorded)."""
        run = self._run
        run.calls += 1
        run.waits += wait
        try:
            yield
        except NonDeterminismError as e:
            if run.error is None:
                run.error = e
            raise
        finally:
            # The call has run (and is in the oplog): crash now, as if the process died here.
            if run.calls == run.crash_after and not run.crashed:
                run.crashed = True
                raise _SimulatedCrash()

    def _call(self, call: Callable[[], _T]) -> _T:
        with self._counted():
            return call()

    def _before_await(self, promise_id: PromiseIdLike, timeout: Optional[float]) -> Optional[float]:
        if self._complete_with is not None:
            pid = PromiseId.parse(promise_id) if isinstance(promise_id, str) else promise_id
            try:
                pending = self.host.poll_promise(pid) is None  # host-level: not recorded
            except PromiseNotFound:
                pending = False
            if pending:
                self._complete_with(self.host, pid)
        return self._await_timeout if timeout is None else timeout

    def create_promise(self) -> PromiseId:
        return self._call(super().create_promise)

    def await_promise(self, promise_id: PromiseIdLike, timeout: Optional[float] = None) -> bytes:
        t = self._before_await(promise_id, timeout)
        return self._call(lambda: super(_CheckedWorker, self).await_promise(promise_id, t))

    async def await_promise_async(self, promise_id: PromiseIdLike, timeout: Optional[float] = None) -> bytes:
        t = self._before_await(promise_id, timeout)
        with self._counted():
            return await super().await_promise_async(promise_id, t)

    def poll_promise(self, promise_id: PromiseIdLike) -> Optional[bytes]:
        return self._call(lambda: super(_CheckedWorker, self).poll_promise(promise_id))

    def complete_promise(self, promise_id: PromiseIdLike, data: BytesLike) -> bool:
        return self._call(lambda: super(_CheckedWorker, self).complete_promise(promise_id, data))

    def delete_promise(self, promise_id: PromiseIdLike) -> None:
        self._call(lambda: super(_CheckedWorker, self).delete_promise(promise_id))

    def get_oplog_index(self) -> int:
        return self._call(super().get_oplog_index)

    def _pollable_ready(self, pollable: Pollable) -> bool:
        with self._counted(wait=True):
            return super()._pollable_ready(pollable)

    def _pollable_block(self, pollable: Pollable, timeout: Optional[float]) -> None:
        t = self._before_await(pollable.promise_id, timeout)
        with self._counted(wait=True):
            super()._pollable_block(pollable, t)

    async def _pollable_wait_ready(self, pollable: Pollable, timeout: Optional[float]) -> None:
        t = self._before_await(pollable.promise_id, timeout)
        with self._counted(wait=True):
            await super()._pollable_wait_ready(pollable, t)

    def close(self) -> None:
        """Ignored: check_replay closes the worker when it is done with it."""


def _takes_worker(fn: Callable[..., object]) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD,
                  inspect.Parameter.VAR_POSITIONAL)
    return any(p.kind in positional for p in params)


#: ("returned", value) or ("raised", "module.Type: message").
_Outcome = Tuple[str, object]


def _run_fn(fn: Callable[..., object], worker: _CheckedWorker) -> _Outcome:
    """Runs fn with worker current (and as its argument if it takes one).  A simulated crash
    propagates; anything else fn raises is its outcome (and kept in the run)."""
    try:
        with worker:
            value = fn(worker) if _takes_worker(fn) else fn()
            if inspect.isawaitable(value):
                awaitable = value

                async def main() -> object:
                    return await awaitable

                value = asyncio.run(main())
        return ("returned", value)
    except Exception as e:
        worker._run.raised = e
        return ("raised", f"{type(e).__module__}.{type(e).__qualname__}: {e}")


def _renamer(source: WorkerId, target: WorkerId) -> Callable[[object], object]:
    """Maps values mentioning worker ``source`` to the same values for worker ``target``, so
    results of runs on different workers compare equal when they differ only by the worker."""
    src_text, dst_text = str(source), str(target)

    def rename(v: object) -> object:
        if source == target:
            return v
        if isinstance(v, WorkerId):
            return target if v == source else v
        if isinstance(v, PromiseId):
            return PromiseId(target, v.oplog_idx) if v.worker_id == source else v
        if isinstance(v, str):
            return v.replace(src_text, dst_text)
        if isinstance(v, bytes):
            return v.replace(src_text.encode(), dst_text.encode())
        if isinstance(v, list):
            return [rename(x) for x in v]
        if isinstance(v, tuple):
            return tuple(rename(x) for x in v)
        if isinstance(v, dict):
            return {rename(k): rename(x) for k, x in v.items()}
        if isinstance(v, (set, frozenset)):
            return type(v)(rename(x) for x in v)
        return v

    return rename


def _same(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except Exception:
        return False


def _shape(entries: List[OplogEntry], worker_id: WorkerId, payloads: bool) -> List[Tuple[object, ...]]:
    """The parts of oplog entries that do not depend on the worker's name or the clock
    (payloads included only if ``payloads``)."""
    out: List[Tuple[object, ...]] = []
    for e in entries:
        pid: object = e.promise_id
        if e.promise_id is not None and e.promise_id.worker_id == worker_id:
            pid = ("own", e.promise_id.oplog_idx)
        payload = (e.payload_len, e.payload_hash) if payloads else ()
        out.append((e.oplog_idx, e.kind, e.status, pid, e.has_payload, e.result_flag) + payload)
    return out


def _calls(n: int) -> str:
    return f"{n} host call" if n == 1 else f"{n} host calls"


def _describe(outcome: _Outcome) -> str:
    kind, value = outcome
    return f"returned {value!r}" if kind == "returned" else f"raised {value}"


def _unexpected(live: _Outcome, calls: int, error: Exception) -> str:
    """The divergence text of a live run that raised what ``raises`` does not allow."""
    text = (f"the live run {_describe(live)} after {_calls(calls)}; nothing was replayed "
            f"(pass raises={type(error).__name__} if the function is meant to raise it)")
    if isinstance(error, TimeoutError):
        text += ("; a TimeoutError here usually means a promise it waited for was never completed: "
                 "pass complete_with, or complete it in the function through worker.host")
    return text


def check_replay(
    fn: Callable[..., object],
    *,
    host: Optional[Host] = None,
    crash_after_each_call: bool = False,
    complete_with: Optional[CompleteWith] = None,
    component_id: Optional[ComponentIdLike] = None,
    worker_name: Optional[str] = None,
    await_timeout: Optional[float] = 30.0,
    raises: ExpectedErrors = (),
) -> ReplayReport:
    """Runs the worker function ``fn`` live, then replayed, and reports the first divergence.

    ``fn`` takes the worker as its one argument, or no argument: either way the worker is the
    current one while it runs, so the module-level functions (``golem_promise.create_promise``
    ...) act for it.  A coroutine function is run with ``asyncio.run``.

    1. Live: ``fn`` runs on a fresh worker of ``host`` (a new in-memory host if None) and its
       result (or exception) and its host calls are recorded.
    2. Replay: ``worker.restart()`` and ``fn`` runs again, answered from the oplog of step 1.
       It must make the same calls (else NonDeterminismError, reported even if ``fn`` catches
       it), all of them (no fewer, no extra), and return an equal value.
    3. With ``crash_after_each_call``, for each k in 1..calls: ``fn`` runs on another fresh
       worker until its k-th host call has run, where a simulated crash stops it (a private
       BaseException, so ``except Exception`` does not catch it); then ``restart()`` and ``fn``
       runs to the end, replaying k calls and going live for the rest.  It must return what the
       live run returned and leave an oplog of the same shape.

    Every way worker code waits is checked alike: ``await_promise`` and its JSON variant,
    blocking or through :mod:`golem_promise.aio` (``aio.await_promise``,
    ``Worker.await_promise_async`` ...), and promise handles (``get_promise(p).get()`` is a
    poll; ``subscribe().ready()``, ``.block()`` and ``aio.wait_ready`` record nothing but are
    counted as host calls, so a crash run also crashes right after each of them).

    Outside completions: when ``fn`` is about to wait for a promise that is still pending (an
    await, ``block()``, ``aio.wait_ready``; not a poll, ``get()`` or ``ready()``),
    ``complete_with(host, promise_id)`` (a :data:`CompleteWith`) is called first, on every run,
    so a replay finds the promise completed as a real restart would.  Without it, ``fn`` must
    arrange completions itself, e.g. ``worker.host.complete_promise(...)``: host-level calls
    are not recorded and are not replayed.  A wait without a timeout is given
    ``await_timeout`` seconds, so a promise nobody completes ends the run with TimeoutError
    instead of hanging.  (A timed-out await is never recorded, so code that relies on one is
    not replay-safe.)

    A live run that raises is not a clean result: unless the exception is an instance of
    ``raises`` (a class or tuple of classes the function is meant to raise), the report is not
    ok, says what was raised (for a TimeoutError, that a promise was never completed) and
    nothing is replayed, since the function stopped before the calls worth checking.  With
    ``raises`` matching, the replays must raise the same exception.

    Without ``host``, each run (the live run and its replay; each crash run) has its own
    in-memory host and the same worker id, so results and oplogs compare exactly.  With
    ``host``, every run is on that host, as worker ``worker_name`` (default ``check-replay-``
    and a random token) plus ``-live`` or ``-crash-<k>``, under ``component_id``; those
    workers stay in its database.  Results that mention the worker (ids, its id in text or
    bytes, in lists, tuples, dicts and sets) are then compared as if made by the live run's
    worker, and payloads are left out of the crash runs' oplog comparison.
    """
    own_hosts: List[Host] = []
    component = _COMPONENT if component_id is None else component_id
    base_name = worker_name or ("check-replay" if host is None else f"check-replay-{_uuid.uuid4().hex[:12]}")
    opened: List[Worker] = []
    runs = 0

    def fresh(suffix: str) -> Worker:
        # Without a host each run gets its own in-memory one, so all runs use the same worker id.
        if host is None:
            own_hosts.append(Host(":memory:"))
            w = own_hosts[-1].worker(component, base_name)
        else:
            w = host.worker(component, f"{base_name}-{suffix}")
        if len(w.host.oplog(w.worker_id)) != 1:
            raise ValueError(f"worker {w.worker_id} already has recorded calls: choose another worker_name")
        opened.append(w)
        return w

    def execute(w: Worker, crash_after: Optional[int] = None) -> Tuple[Optional[_Outcome], _Run]:
        nonlocal runs
        runs += 1
        run = _Run(crash_after)
        try:
            outcome: Optional[_Outcome] = _run_fn(fn, _CheckedWorker(w, run, complete_with, await_timeout))
        except _SimulatedCrash:
            outcome = None
        return outcome, run

    try:
        live_worker = fresh("live")
        live, live_run = execute(live_worker)
        assert live is not None
        calls = live_run.calls
        live_oplog = live_worker.host.oplog(live_worker.worker_id)
        if live_run.raised is not None and not isinstance(live_run.raised, raises):
            return ReplayReport(False, _unexpected(live, calls, live_run.raised), calls, live[1], runs,
                                live_error=live_run.raised)

        def report(divergence: str, crash_after: Optional[int], error: Optional[NonDeterminismError]) -> ReplayReport:
            return ReplayReport(False, divergence, calls, live[1], runs, crash_after,
                                error.oplog_idx if error is not None else None, error, live_run.raised)

        def check_replayed(w: Worker, crash_after: Optional[int]) -> Optional[ReplayReport]:
            """Restarts w, runs fn to the end and compares it with the live run."""
            where = ("replay after the live run" if crash_after is None
                     else f"replay after a crash after call {crash_after} of {calls}")
            recorded = len(w.host.oplog(w.worker_id))
            w.restart()
            outcome, run = execute(w)
            assert outcome is not None
            if run.error is not None:
                return report(f"{where}: {run.error.message}", crash_after, run.error)
            if w.is_replaying:
                return report(
                    f"{where}: the function made {_calls(run.calls - run.waits)} and returned, but the oplog "
                    f"records {recorded - 1}; replay stopped at oplog index {w.oplog_position} "
                    f"(next recorded: {w.host.oplog(w.worker_id)[w.oplog_position].kind})",
                    crash_after, None)
            oplog = w.host.oplog(w.worker_id)
            if crash_after is None and len(oplog) != recorded:
                extra = oplog[recorded]
                return report(
                    f"{where}: the function made {_calls(run.calls)}, the live run {calls}: "
                    f"extra call {extra.kind} written live at oplog index {extra.oplog_idx}",
                    crash_after, None)
            rename = _renamer(w.worker_id, live_worker.worker_id)
            got = (outcome[0], rename(outcome[1]))
            if not _same(got, live):
                return report(f"{where}: the function {_describe(got)}, the live run {_describe(live)}",
                              crash_after, None)
            if crash_after is not None:
                # Payloads may mention the worker: compare them only when the ids are the same.
                exact = w.worker_id == live_worker.worker_id
                shape = _shape(oplog, w.worker_id, exact)
                live_shape = _shape(live_oplog, live_worker.worker_id, exact)
                if shape != live_shape:
                    at = next((i for i, (a, b) in enumerate(zip(shape, live_shape)) if a != b),
                              min(len(shape), len(live_shape)))
                    mine = oplog[at].kind if at < len(oplog) else "nothing"
                    theirs = live_oplog[at].kind if at < len(live_oplog) else "nothing"
                    return report(
                        f"{where}: the oplog differs from the live run's at index {at + 1}: "
                        f"{mine} here, {theirs} in the live run", crash_after, None)
            return None

        found = check_replayed(live_worker, None)
        if found is not None:
            return found
        if crash_after_each_call:
            for k in range(1, calls + 1):
                w = fresh(f"crash-{k}")
                execute(w, crash_after=k)
                found = check_replayed(w, k)
                if found is not None:
                    return found
        return ReplayReport(True, None, calls, live[1], runs, live_error=live_run.raised)
    finally:
        for w in opened:
            w.close()
        for h in own_hosts:
            h.close()


class ReplayChecker:
    """The ``check_replay`` fixture: call it like :func:`check_replay`; it returns the report
    and raises AssertionError (failing the test) when a divergence was found."""

    def __call__(self, fn: Callable[..., object], **options: Any) -> ReplayReport:
        """Runs :func:`check_replay` and asserts that it found no divergence (and that the live
        run did not raise what ``raises`` does not allow)."""
        result = check_replay(fn, **options)
        if not result.ok:
            # One run and not ok: the live run raised, and nothing was replayed.
            what = "could not be checked" if result.runs == 1 else "is not replay-safe"
            raise AssertionError(f"worker function {what}: {result.divergence}")
        return result


try:
    import pytest as _pytest
except ImportError:  # pragma: no cover - pytest is only needed for the fixture
    pass
else:

    @_pytest.fixture(name="check_replay")
    def check_replay_fixture() -> ReplayChecker:
        """The ``check_replay`` fixture: a :class:`ReplayChecker`."""
        return ReplayChecker()
