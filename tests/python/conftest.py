"""Shared fixtures: in-memory hosts, workers, an 'actor' that is either level of the API, and the test components."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Optional, Union

import pytest

from golem_promise import ComponentId, Host, PromiseId, Worker

from component_builds import build

COMPONENT = ComponentId.from_uuid(uuid.UUID("a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8"))

Payload = Union[bytes, bytearray, memoryview]


@pytest.fixture
def host() -> Iterator[Host]:
    """A fresh in-memory host, closed after the test."""
    with Host(":memory:") as h:
        yield h


@pytest.fixture
def worker(host: Host) -> Worker:
    """The worker `COMPONENT/alice` of the test's host."""
    return host.worker(COMPONENT, "alice")


@pytest.fixture
def other_worker(host: Host) -> Worker:
    """A second worker, `COMPONENT/bob`, of the same host."""
    return host.worker(COMPONENT, "bob")


@dataclass
class Actor:
    """The promise calls of one API level (a worker, or the host as an outside party)."""

    name: str
    complete_promise: Callable[[PromiseId, Payload], bool]
    poll_promise: Callable[[PromiseId], Optional[bytes]]
    await_promise: Callable[..., bytes]
    delete_promise: Callable[[PromiseId], None]


@pytest.fixture(params=["worker", "host"])
def actor(request: pytest.FixtureRequest, host: Host, worker: Worker) -> Actor:
    """Each state-machine test runs once through Worker methods and once through Host methods."""
    target: Union[Host, Worker] = worker if request.param == "worker" else host
    return Actor(
        request.param,
        target.complete_promise,
        target.poll_promise,
        target.await_promise,
        target.delete_promise,
    )


# The test components, built by componentize-py once per session (cached on disk by source hash).
@pytest.fixture(scope="session")
def approval_wasm() -> Path:
    return build("approval")


@pytest.fixture(scope="session")
def probe_wasm() -> Path:
    return build("probe")
