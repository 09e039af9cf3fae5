"""install_host_module: Golem worker code that imports its generated host module runs unchanged."""

from __future__ import annotations

import importlib
import sys
import threading
import types
from pathlib import Path
from typing import Iterator

import pytest

import golem_promise as gp
from golem_promise import Host, Worker
from golem_promise._host_module import HOST_FUNCTIONS, HOST_TYPES

EXAMPLE_DIR = Path(__file__).parent / "worker_example"


@pytest.fixture
def approval_worker(monkeypatch: pytest.MonkeyPatch) -> Iterator[types.ModuleType]:
    """The example worker module, imported against an installed host module."""
    monkeypatch.syspath_prepend(str(EXAMPLE_DIR))
    gp.install_host_module("py_example.imports.host")
    sys.modules.pop("approval_worker", None)
    try:
        yield importlib.import_module("approval_worker")
    finally:
        sys.modules.pop("approval_worker", None)
        gp.uninstall_host_module("py_example.imports.host")
        for name in [n for n in sys.modules if n == "py_example" or n.startswith("py_example.")]:
            del sys.modules[name]


def test_the_module_has_golems_functions_and_records() -> None:
    module = gp.install_host_module("some_world.imports.host")
    try:
        from some_world.imports import host  # type: ignore[import-not-found]

        assert host is module
        for name in HOST_FUNCTIONS + HOST_TYPES:
            assert hasattr(module, name), name
        assert module.PromiseId is gp.PromiseId
        assert sys.modules["some_world"].imports.host is module
    finally:
        assert gp.uninstall_host_module("some_world.imports.host")
    assert "some_world" not in sys.modules
    assert "some_world.imports.host" not in sys.modules
    assert not gp.uninstall_host_module("some_world.imports.host")


def test_bad_names_are_refused() -> None:
    for bad in ["", "a..b", "1abc.host", "a.b-c"]:
        with pytest.raises(ValueError):
            gp.install_host_module(bad)


def test_an_existing_parent_package_is_left_alone() -> None:
    module = gp.install_host_module("json.golem_host")
    try:
        import json

        assert json.golem_host is module  # type: ignore[attr-defined]
        assert hasattr(json, "dumps")
    finally:
        gp.uninstall_host_module("json.golem_host")
    import json

    assert not hasattr(json, "golem_host")


def test_types_name_registers_the_records_too() -> None:
    gp.install_host_module("w2.imports.host", types_name="w2.imports.golem_rpc_types")
    try:
        rpc = sys.modules["w2.imports.golem_rpc_types"]
        assert rpc.Uuid is gp.Uuid
        assert not hasattr(rpc, "create_promise")
    finally:
        gp.uninstall_host_module("w2.imports.golem_rpc_types")
        gp.uninstall_host_module("w2.imports.host")


def test_the_example_worker_runs_unchanged(approval_worker: types.ModuleType, host: Host, worker: Worker) -> None:
    with worker:
        app = approval_worker.ApprovalWorker()
        pid = app.request_approval("expense-42")
        assert pid.worker_id == worker.worker_id
        assert app.check("expense-42") is None
        threading.Timer(0.05, host.complete_promise_json, (pid, {"approved": True})).start()
        assert app.wait_for_decision("expense-42") is True
        assert app.check("expense-42") is True
        assert app.check_with_handle("expense-42") == b'{"approved":true}'
        assert app.self_approve("expense-42") is False
        app.cancel("expense-42")
        assert app.checkpoint() == len(host.oplog(worker.worker_id))
        assert approval_worker.approve_all(app, ["a", "b"]) == [True, True]
    kinds = [e.kind for e in host.oplog(worker.worker_id)]
    assert kinds[:6] == [
        "create",
        "create-promise",
        "poll-promise",
        "await-promise",
        "poll-promise",
        "poll-promise",
    ]


def test_the_example_worker_under_the_fixtures(
    approval_worker: types.ModuleType, golem_host: Host, golem_worker: Worker
) -> None:
    app = approval_worker.ApprovalWorker()
    pid = app.request_approval("r")
    assert pid.worker_id == golem_worker.worker_id  # golem_worker is the current worker
    golem_host.complete_promise(pid, b'{"approved": false}')
    assert app.wait_for_decision("r") is False
