"""Testing a component's promise flow: start an invocation, complete its promise, check the result.

The pytest plugin's ``golem_component`` fixture gives a :class:`ComponentRunner` on the test's
``golem_host``::

    @pytest.mark.golem_host(file=True)
    def test_approval(golem_component, golem_host):
        runner = golem_component("build/components/approval.wasm")
        run = runner.start("golem:it/api.{run-approval}", ["order-7"], worker="approval-1")
        promise = run.awaited_promise()                   # the promise it is waiting on
        golem_host.complete_promise_json(promise, {"approved": True, "by": "ana"})
        assert run.result() == {"ok": {"request": "order-7", "approved": True, "by": "ana"}}
        assert [e.kind for e in golem_host.oplog(run.worker_id)][-1] == "exported-function-completed"

Invocations are durable, as on Golem: :meth:`ComponentRunner.restart` cuts a running
invocation off as a crash would and resumes it in a new instance, which replays the worker's
oplog and waits again on the same promise::

        run = runner.start("golem:it/api.{run-approval}", ["order-7"], worker="approval-1")
        promise = run.awaited_promise()
        run = runner.restart(run)                         # a crash while it awaited
        assert run.awaited_promise() == promise           # resumed: the same promise
        golem_host.complete_promise_json(promise, {"approved": True, "by": "ana"})
        assert run.result()["ok"]["approved"] is True
"""

from __future__ import annotations

import io
import os
import threading
import time
from typing import Any, List, Optional, Sequence, Union

from .._host import Host
from .._ids import ComponentId, PromiseId, WorkerId
from . import Component, ComponentInstance, load_component

__all__ = ["ComponentRunner", "Invocation"]


class _Captured(io.RawIOBase):
    """A thread-safe byte sink for a component's output."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._data = bytearray()

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        with self._lock:
            self._data += bytes(data)
        return len(data)

    def getvalue(self) -> bytes:
        with self._lock:
            return bytes(self._data)


class Invocation:
    """One export call running on its own thread; made by :meth:`ComponentRunner.start`."""

    def __init__(self, instance: ComponentInstance, export: str, args: Sequence[Any], stdout: _Captured, stderr: _Captured) -> None:
        """Starts the call at once."""
        self.instance = instance
        self.export = export
        self.args = list(args)
        self._stdout = stdout
        self._stderr = stderr
        self._result: Any = None
        self._error: Optional[BaseException] = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(list(args),), name=f"invoke {export}", daemon=True)
        self._thread.start()

    def _run(self, args: List[Any]) -> None:
        try:
            self._result = self.instance.invoke(self.export, args)
        except BaseException as e:  # handed to the test thread by result()
            self._error = e
        finally:
            self._done.set()

    @property
    def worker_id(self) -> WorkerId:
        """The worker the invocation runs as."""
        return self.instance.worker.worker_id

    @property
    def done(self) -> bool:
        """True once the call has returned or failed."""
        return self._done.is_set()

    @property
    def stdout(self) -> bytes:
        """What the component has written on stdout so far."""
        return self._stdout.getvalue()

    @property
    def stderr(self) -> bytes:
        """What the component has written on stderr so far."""
        return self._stderr.getvalue()

    def result(self, timeout: Optional[float] = 30.0) -> Any:
        """The call's JSON result, once it returns; its exception (ComponentTrap, ...) is raised here.

        TimeoutError if it is still running after ``timeout`` seconds (None waits forever).
        """
        if not self._done.wait(timeout):
            raise TimeoutError(f"{self.export} still running after {timeout} s")
        if self._error is not None:
            raise self._error
        return self._result

    def awaited_promise(self, timeout: float = 30.0) -> PromiseId:
        """The promise the invocation is blocked on in await-promise, once it gets there.

        TimeoutError after ``timeout`` seconds; the invocation's own error if it ends first.
        """
        deadline = time.monotonic() + timeout
        while True:
            awaiting = self.instance.awaiting_promise
            if awaiting is not None:
                return awaiting
            if self._done.is_set():
                self.result(0)  # raises the invocation's error
                raise RuntimeError(f"{self.export} returned without awaiting a promise")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.export} awaited no promise within {timeout} s")
            time.sleep(0.005)


class ComponentRunner:
    """A component loaded for tests, with instances on one host; see the module's example."""

    def __init__(self, component: Component, host: Host, component_id: Optional[ComponentId] = None) -> None:
        """The component, the host its workers live on, and their component id (default: the
        component's own, from its hash)."""
        self.component = component
        self.host = host
        self.component_id = component_id if component_id is not None else component.component_id
        self._instances: List[ComponentInstance] = []

    @classmethod
    def load(cls, path: Union[str, "os.PathLike[str]"], host: Host, **load_options: Any) -> ComponentRunner:
        """Loads the component at ``path`` (cached as :func:`load_component` does) for ``host``."""
        return cls(load_component(path, **load_options), host)

    def instance(self, worker: str = "worker-1") -> ComponentInstance:
        """A new instance acting as the worker named ``worker`` of this component (output kept)."""
        return self._instance(worker, _Captured(), _Captured())

    def _instance(self, worker: str, stdout: _Captured, stderr: _Captured) -> ComponentInstance:
        # In replay: the worker's recorded invocations are replayed before the first new one.
        w = self.host.worker(self.component_id, worker)
        try:
            inst = self.component.instantiate(w, stdout=stdout, stderr=stderr)
        except BaseException:
            w.close()
            raise
        self._instances.append(inst)
        return inst

    def invoke(self, export: str, args: Sequence[Any] = (), *, worker: str = "worker-1") -> Any:
        """Calls ``export`` on a new instance for ``worker`` and returns its JSON result (the
        instance closes after it, so that the next call on the worker may run)."""
        inst = self.instance(worker)
        try:
            return inst.invoke(export, args)
        finally:
            inst.close()
            inst.worker.close()
            self._instances.remove(inst)

    def start(self, export: str, args: Sequence[Any] = (), *, worker: str = "worker-1") -> Invocation:
        """Starts ``export`` on a thread (a new instance for ``worker``); see :class:`Invocation`."""
        stdout, stderr = _Captured(), _Captured()
        return Invocation(self._instance(worker, stdout, stderr), export, args, stdout, stderr)

    def restart(self, invocation: Invocation, timeout: float = 30.0) -> Invocation:
        """Cuts ``invocation`` off as a crash would and resumes it in a new instance.

        Its await gives up (nothing more is recorded, as when a process is killed), its instance
        and worker handle close, and a new instance of the same worker replays the oplog (the
        recorded calls answered from it, no output repeated) and continues the invocation
        live: it awaits the same promise again.  Returns the resumed Invocation, whose result
        is the cut-off invocation's.  TimeoutError if it does not stop within ``timeout``.
        """
        old = invocation.instance
        linked = old._linked
        if linked is not None:
            linked.interrupted = True
        if not invocation._done.wait(timeout):
            raise TimeoutError(f"{invocation.export} did not stop within {timeout} s")
        old.close()
        old.worker.close()
        stdout, stderr = _Captured(), _Captured()
        inst = self._instance(old.worker.worker_id.worker_name, stdout, stderr)
        return Invocation(inst, invocation.export, invocation.args, stdout, stderr)

    def close(self) -> None:
        """Drops every instance made by this runner (and their worker handles)."""
        for inst in self._instances:
            inst.close()
            inst.worker.close()
        self._instances.clear()
