"""install_host_module: Golem worker code that imports its generated host module runs unchanged."""

from __future__ import annotations

import importlib
import itertools
import sys
import threading
import types
from pathlib import Path
from typing import Dict, Iterator

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
        import json.golem_host  # type: ignore[import-not-found]

        assert json.golem_host is module
        assert hasattr(json, "dumps")
    finally:
        gp.uninstall_host_module("json.golem_host")
    import json

    assert not hasattr(json, "golem_host")


def test_types_name_registers_the_records_too() -> None:
    gp.install_host_module("w2.imports.host", types_name="w2.imports.golem_rpc_types")
    try:
        rpc = importlib.import_module("w2.imports.golem_rpc_types")
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


# ----------------------------------------------------------------- every import form, every layout
# Each case installs a fresh module name, so nothing one case imported helps the next.
_names = itertools.count()

IMPORT_FORMS = {
    "from": "from {name} import create_promise\nfound = create_promise",
    "import": "import {name}\nfound = {name}.create_promise",
    "import-as": "import {name} as h\nfound = h.create_promise",
    "from-parent": "from {parent} import host\nfound = host.create_promise",
    "import_module": "import importlib\nfound = importlib.import_module('{name}').create_promise",
}


def _forget(top: str) -> None:
    for name in [n for n in sys.modules if n == top or n.startswith(top + ".")]:
        del sys.modules[name]


def _write_package(root: Path, top: str, *, with_init: bool) -> None:
    """``top/imports/`` on disk: regular packages (their __init__ counts its runs) or namespace
    directories, plus a real ``host.py`` that must never be imported instead of ours."""
    package = root / top / "imports"
    package.mkdir(parents=True)
    if with_init:
        (root / top / "__init__.py").write_text("import sys\nsys.modules[__name__].runs = 1\n", encoding="utf-8")
        (package / "__init__.py").write_text("WORLD = 'real'\n", encoding="utf-8")
    (package / "host.py").write_text("raise ImportError('the generated bindings ran')\n", encoding="utf-8")


@pytest.mark.parametrize("form", sorted(IMPORT_FORMS))
@pytest.mark.parametrize("layout", ["no-parents", "parents-on-disk", "namespace-on-disk", "parents-imported"])
def test_every_import_form_finds_the_module(
    form: str, layout: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, host: Host, worker: Worker
) -> None:
    top = f"gp_world_{next(_names)}"
    name = f"{top}.imports.host"
    if layout != "no-parents":
        _write_package(tmp_path, top, with_init=layout != "namespace-on-disk")
        monkeypatch.syspath_prepend(str(tmp_path))
    if layout == "parents-imported":
        importlib.import_module(f"{top}.imports")
    try:
        module = gp.install_host_module(name)
        namespace: Dict[str, object] = {}
        exec(IMPORT_FORMS[form].format(name=name, parent=f"{top}.imports"), namespace)
        assert namespace["found"] is module.create_promise is gp.create_promise
        package = sys.modules[top]
        assert package.imports.host is module
        assert sys.modules[name] is module
        if layout in ("parents-on-disk", "parents-imported"):  # the real packages, imported once
            assert package.runs == 1
            assert package.imports.WORLD == "real"
        elif layout == "namespace-on-disk":
            assert list(package.__path__) == [str(tmp_path / top)]
        with worker:
            assert module.create_promise().worker_id == worker.worker_id
    finally:
        gp.uninstall_host_module(name)
        _forget(top)


def test_uninstall_and_reinstall_give_the_new_module_to_every_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    top = f"gp_world_{next(_names)}"
    name = f"{top}.imports.host"
    first = gp.install_host_module(name)
    try:
        exec(f"import {name}", {})
        assert sys.modules[top].imports.host is first
        assert gp.uninstall_host_module(name)
        assert top not in sys.modules and name not in sys.modules  # our parents went with it
        with pytest.raises(ModuleNotFoundError):
            exec(f"import {name}", {})
        second = gp.install_host_module(name)
        third = gp.install_host_module(name)  # installing again replaces the module
        assert second is not third
        namespace: Dict[str, object] = {}
        exec(f"import {name} as h\nfound = h", namespace)
        assert namespace["found"] is third and sys.modules[top].imports.host is third
    finally:
        gp.uninstall_host_module(name)
        _forget(top)
    # Real parents stay imported after uninstall; only our module leaves them.
    _write_package(tmp_path, top, with_init=True)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = gp.install_host_module(name)
    try:
        exec(f"import {name}", {})
        assert sys.modules[f"{top}.imports"].host is module
    finally:
        assert gp.uninstall_host_module(name)
    assert sys.modules[top].runs == 1 and not hasattr(sys.modules[f"{top}.imports"], "host")
    assert name not in sys.modules
    _forget(top)


def test_two_names_share_the_parents_they_needed() -> None:
    top = f"gp_world_{next(_names)}"
    gp.install_host_module(f"{top}.imports.host", types_name=f"{top}.imports.golem_rpc_types")
    try:
        exec(f"import {top}.imports.host, {top}.imports.golem_rpc_types", {})
        assert gp.uninstall_host_module(f"{top}.imports.host")  # the other still needs the parents
        rpc = importlib.import_module(f"{top}.imports.golem_rpc_types")
        assert rpc.Uuid is gp.Uuid and sys.modules[top].imports.golem_rpc_types is rpc
        assert not hasattr(sys.modules[f"{top}.imports"], "host")
    finally:
        gp.uninstall_host_module(f"{top}.imports.golem_rpc_types")
    assert top not in sys.modules
