"""The pytest plugin: loaded through the pytest11 entry point, fixtures and --golem-host-module."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

import golem_promise as gp
from golem_promise import Host, Worker
from golem_promise.pytest_plugin import GolemServer
from http_client import complete

WORKER_EXAMPLE = Path(__file__).parent / "worker_example"

pytest_plugins = ("pytester",)


def test_golem_host_is_a_fresh_in_memory_host(golem_host: Host) -> None:
    assert golem_host.path == ":memory:"
    assert golem_host.list_promises() == []


@pytest.mark.golem_host(file=True)
def test_golem_host_on_a_file_on_request(golem_host: Host) -> None:
    assert golem_host.path.endswith("golem-promise.db")


@pytest.mark.parametrize("golem_host", ["file", "memory"], indirect=True)
def test_golem_host_indirect_parametrisation(golem_host: Host) -> None:
    assert golem_host.path == ":memory:" or golem_host.path.endswith(".db")


def test_golem_worker_is_current_for_the_test(golem_host: Host, golem_worker: Worker) -> None:
    assert gp.current_worker() is golem_worker
    assert golem_worker.host is golem_host
    pid = gp.create_promise()
    assert pid.worker_id == golem_worker.worker_id
    assert golem_worker.worker_id.worker_name == "test_golem_worker_is_current_for_the_test"


def test_golem_server_serves_the_host(golem_server: GolemServer, golem_host: Host, golem_worker: Worker) -> None:
    assert golem_server.url.startswith("http://127.0.0.1:")
    assert golem_server.token
    assert golem_server.server.host is golem_host
    pid = gp.create_promise()
    assert complete(golem_server.url, pid, b"no token").status == 401
    r = complete(golem_server.url, pid, b"hook", token=golem_server.token)
    assert (r.status, r.body) == (200, b"true")
    assert gp.await_promise(pid, timeout=5) == b"hook"


GOLEM_STYLE_TEST = """
import json
import golem_promise as gp
import approval_worker   # imports py_example.imports.host, as in Golem

def test_approval_completed_over_http(golem_worker, golem_server, golem_host):
    app = approval_worker.ApprovalWorker()
    pid = app.request_approval("expense-7")
    assert pid.worker_id == golem_worker.worker_id
    assert app.check("expense-7") is None
    r = complete(golem_server.url, pid, json.dumps({"approved": True}).encode(), token=golem_server.token)
    assert r.body == b"true"
    assert app.wait_for_decision("expense-7") is True
    assert [e.kind for e in golem_host.oplog(golem_worker.worker_id)] == [
        "create", "create-promise", "poll-promise", "await-promise"]

@pytest.mark.golem_host(file=True)
def test_on_a_file_host(golem_worker):
    app = approval_worker.ApprovalWorker()
    app.request_approval("r")
    assert app.self_approve("r") is True and app.wait_for_decision("r") is True
"""


def test_a_golem_style_worker_module_runs_under_the_option(pytester: pytest.Pytester) -> None:
    """The example worker (tests/python/worker_example) imports Golem's generated module; under
    ``--golem-host-module`` it runs with the fixtures, completed over HTTP, with no edits."""
    pytester.makepyfile(approval_worker=(WORKER_EXAMPLE / "approval_worker.py").read_text(encoding="utf-8"))
    pytester.makepyfile(
        http_client=(Path(__file__).parent / "http_client.py").read_text(encoding="utf-8"),
        test_golem_style="import pytest\nfrom http_client import complete\n" + GOLEM_STYLE_TEST,
    )
    result = pytester.runpytest_subprocess("--golem-host-module", "py_example.imports.host", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
    # Without the option the worker module cannot even be imported: the option is what makes it run.
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*No module named 'py_example'*"])


def test_the_plugin_is_registered_by_entry_point(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        import golem_promise as gp

        def test_fixture(golem_worker):
            assert gp.current_worker() is golem_worker

        def test_host_module():
            from py_example.imports.host import create_promise
            assert create_promise().oplog_idx >= 2

        def test_check_replay(check_replay):
            def fn(worker):
                return worker.create_promise().oplog_idx
            check_replay(fn)
        """
    )
    result = pytester.runpytest_subprocess("--golem-host-module", "py_example.imports.host", "-p", "no:cacheprovider")
    if importlib.util.find_spec("golem_promise.testing") is None:  # the replay checker is optional
        result.assert_outcomes(passed=2, skipped=1)
    else:
        result.assert_outcomes(passed=3)


def test_unknown_marker_options_are_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.golem_host(disk=True)
        def test_bad(golem_host):
            pass
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
