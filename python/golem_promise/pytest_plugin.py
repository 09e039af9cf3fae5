"""pytest plugin (entry point ``pytest11``: loaded whenever golem-promise is installed).

Fixtures:

``golem_host``
    A fresh :class:`~golem_promise.Host` per test, in memory.  ``@pytest.mark.golem_host(file=True)``
    (or ``indirect`` parametrisation with ``"file"`` / ``"memory"``) puts it on a file in the
    test's temporary directory instead; ``synchronous="normal"`` is passed through.
``golem_worker``
    A worker of ``golem_host`` (component :data:`TEST_COMPONENT`, named after the test), made the
    current worker for the test, so ``golem_promise.create_promise()`` and an installed host
    module act for it.
``golem_server``
    ``golem_host``'s HTTP completion endpoint (:class:`GolemServer`: ``url``, ``token``,
    ``server``), with a random bearer token.
``golem_component``
    A loader of components under test on ``golem_host``: ``golem_component(path)`` gives a
    :class:`~golem_promise.components.testing.ComponentRunner` whose ``start(export, args,
    worker=...)`` runs an invocation on a thread; complete the promise it awaits
    (``awaited_promise()``) through the host, HTTP or another component, then check
    ``result()`` and the worker's oplog.  Instances are dropped after the test.
``check_replay``
    ``golem_promise.testing``'s replay checker: call it with a worker function; it fails the
    test if a replay of the function diverges (docs/replay.md).

Option ``--golem-host-module NAME`` (repeatable) runs ``install_host_module(NAME)`` for the
session, so worker modules that import Golem's generated host API import unchanged.
"""

from __future__ import annotations

import importlib
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, Optional, Union

import pytest

from ._host import Host, Server, Worker
from ._host_module import install_host_module, uninstall_host_module
from ._ids import ComponentId

if TYPE_CHECKING:
    import os

    from .components.testing import ComponentRunner

__all__ = ["GolemServer", "TEST_COMPONENT"]

#: The component id of ``golem_worker``.
TEST_COMPONENT = ComponentId.from_uuid(uuid.UUID("0c0ffee0-0000-4000-8000-000000000001"))

_INSTALLED_KEY = pytest.StashKey[List[str]]()


@dataclass(frozen=True)
class GolemServer:
    """What ``golem_server`` gives: the endpoint's base URL, its bearer token, and the Server."""

    url: str
    token: str
    server: Server


def pytest_addoption(parser: pytest.Parser) -> None:
    """Adds ``--golem-host-module``."""
    group = parser.getgroup("golem_promise")
    group.addoption(
        "--golem-host-module",
        action="append",
        default=[],
        metavar="NAME",
        help="install golem-promise's stand-in for Golem's generated host module under NAME "
        "(e.g. py_example.imports.host) for the session; may be repeated",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Registers the ``golem_host`` marker and installs the requested host modules."""
    config.addinivalue_line(
        "markers",
        "golem_host(file=False, synchronous='full'): how the golem_host fixture opens its host",
    )
    names: List[str] = list(config.getoption("--golem-host-module", default=[]) or [])
    for name in names:
        install_host_module(name)
    config.stash[_INSTALLED_KEY] = names


def pytest_unconfigure(config: pytest.Config) -> None:
    """Removes the host modules installed for the session."""
    for name in config.stash.get(_INSTALLED_KEY, []):
        uninstall_host_module(name)


def _host_options(request: pytest.FixtureRequest) -> dict[str, Any]:
    options: dict[str, Any] = {}
    marker = request.node.get_closest_marker("golem_host")
    if marker is not None:
        if marker.args:
            raise pytest.UsageError("@pytest.mark.golem_host takes keyword arguments only")
        options.update(marker.kwargs)
    param = getattr(request, "param", None)
    if isinstance(param, str):
        if param not in ("file", "memory"):
            raise pytest.UsageError(f"golem_host param must be 'file' or 'memory', not {param!r}")
        options["file"] = param == "file"
    elif isinstance(param, dict):
        options.update(param)
    elif param is not None:
        raise pytest.UsageError("golem_host param must be 'file', 'memory' or a dict of options")
    unknown = set(options) - {"file", "synchronous"}
    if unknown:
        raise pytest.UsageError(f"unknown golem_host options: {sorted(unknown)}")
    return options


@pytest.fixture
def golem_host(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Host]:
    """A fresh host for the test: in memory, or on a file with ``@pytest.mark.golem_host(file=True)``."""
    options = _host_options(request)
    path = str(tmp_path / "golem-promise.db") if options.get("file") else ":memory:"
    with Host(path, synchronous=options.get("synchronous", "full")) as host:
        yield host


def _worker_name(nodename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9_-]", "_", nodename).lstrip("-")[:100]
    return name or "test"


@pytest.fixture
def golem_worker(request: pytest.FixtureRequest, golem_host: Host) -> Iterator[Worker]:
    """A worker of ``golem_host`` named after the test, current for the test's duration."""
    worker = golem_host.worker(TEST_COMPONENT, _worker_name(request.node.name))
    with worker:
        yield worker


@pytest.fixture
def golem_server(golem_host: Host) -> Iterator[GolemServer]:
    """``golem_host`` served over HTTP on 127.0.0.1 with a random bearer token."""
    serve: Optional[Callable[..., Server]] = getattr(golem_host, "serve", None)
    if serve is None:
        pytest.skip("this golem-promise has no HTTP endpoint (Host.serve)")
    token = secrets.token_urlsafe(16)
    with serve(token=token) as server:
        yield GolemServer(server.url, token, server)


@pytest.fixture
def golem_component(golem_host: Host) -> Iterator[Callable[..., "ComponentRunner"]]:
    """Loads components for the test on ``golem_host``: ``golem_component(path, **load_options)``.

    ``load_options`` go to :func:`golem_promise.components.load_component` (``cache``,
    ``cache_dir``).  Imported on first use: wasmtime is loaded only by tests that run components.
    """
    from .components.testing import ComponentRunner

    runners: List[ComponentRunner] = []

    def load(path: Union[str, "os.PathLike[str]"], **load_options: Any) -> ComponentRunner:
        runner = ComponentRunner.load(path, golem_host, **load_options)
        runners.append(runner)
        return runner

    yield load
    for runner in runners:
        runner.close()


def _check_replay_unavailable() -> Callable[..., Any]:
    """Skips: this version of golem-promise has no ``golem_promise.testing``."""
    pytest.skip("golem_promise.testing is not available")


def _replay_fixture() -> Any:
    try:  # the replay checker's own fixture, when this version has it
        testing = importlib.import_module("golem_promise.testing")
    except ImportError:  # pragma: no cover - older layouts
        testing = None
    found = getattr(testing, "check_replay_fixture", None)
    return found if found is not None else pytest.fixture(name="check_replay")(_check_replay_unavailable)


#: The ``check_replay`` fixture (pytest finds it by its registered name).
check_replay_fixture = _replay_fixture()
