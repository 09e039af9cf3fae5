"""Host calls that cost microseconds (issue 23): the promise functions are registered with
wasmtime's C API and their values converted in their known shapes (components/_fastcall.py),
not by the binding's generic conversion.  These tests check that the binding still has what
that leans on, that values of every size and text come through intact both ways, and that
nothing leaks over many calls."""

from __future__ import annotations

import os
import resource
import sys
from pathlib import Path
from typing import Iterator

import pytest

from component_builds import CACHE_DIR, ROOT, build
from golem_promise import Host, PromiseId
from golem_promise.components import load_component
from golem_promise.components import _fastcall
from golem_promise.components._link import GENERIC_CALLS_ENV

ROUND_TRIPS_WAT = ROOT / "tests" / "components" / "round-trips-1.1.0.wat"


@pytest.fixture
def host() -> Iterator[Host]:
    with Host() as h:
        yield h


def _rss_kib() -> int:
    with open(f"/proc/{os.getpid()}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def test_the_binding_has_what_the_fast_calls_use_and_instances_use_them(host: Host) -> None:
    # If a new wasmtime release moves these internals, this fails here instead of every host
    # call silently taking the generic path again.
    assert _fastcall.available()
    component = load_component(ROUND_TRIPS_WAT, cache_dir=CACHE_DIR)
    with component.instantiate(host.worker(component.component_id, "fast", live=True)) as inst:
        assert inst._linked is not None and inst._linked.fast
        assert inst.invoke("golem:it/bench.{round-trips}", [3]) > 0


@pytest.mark.parametrize("generic", [False, True])
def test_a_text_guest_round_trips_through_both_paths(host: Host, generic: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    if generic:
        monkeypatch.setenv(GENERIC_CALLS_ENV, "1")
    component = load_component(ROUND_TRIPS_WAT, cache_dir=CACHE_DIR)
    worker = host.worker(component.component_id, "fast-path" if not generic else "generic-path", live=True)
    with component.instantiate(worker) as inst:
        assert inst._linked is not None and inst._linked.fast is not generic
        last = inst.invoke("golem:it/bench.{round-trips}", [5])
    kinds = [e.kind for e in host.oplog(worker.worker_id) if e.kind.endswith("-promise")]
    assert kinds == ["create-promise", "complete-promise", "await-promise", "delete-promise"] * 5
    # The index the guest read back from the record is the last promise's.
    created = [e.promise_id for e in host.oplog(worker.worker_id) if e.kind == "create-promise"]
    assert created[-1] == PromiseId(worker.worker_id, last)
    assert [e.payload_len for e in host.oplog(worker.worker_id) if e.kind == "await-promise"] == [1] * 5


def test_payloads_of_every_size_come_through_intact(host: Host) -> None:
    probe = load_component(build("probe"), cache_dir=CACHE_DIR)
    worker = host.worker(probe.component_id, "Payloads_of-every-size", live=True)
    with probe.instantiate(worker) as inst:
        for payload in (b"", b"\x00", bytes(range(256)), os.urandom(1 << 20)):
            record = inst.invoke("golem:it/probe.{create}")
            assert record["worker-id"]["worker-name"] == "Payloads_of-every-size"
            assert inst.invoke("poll", [record]) is None
            assert inst.invoke("complete", [record, list(payload)]) is True
            assert inst.invoke("complete", [record, [1]]) is False
            assert bytes(inst.invoke("poll", [record])) == payload
            assert bytes(inst.invoke("wait", [record])) == payload
            pid = PromiseId(worker.worker_id, record["oplog-idx"])
            assert host.poll_promise(pid) == payload
            inst.invoke("delete", [record])
            assert host.list_promises(worker.worker_id) == []


def test_many_host_calls_leak_nothing(host: Host) -> None:
    component = load_component(ROUND_TRIPS_WAT, cache_dir=CACHE_DIR)
    with component.instantiate(host.worker(component.component_id, "leak", live=True)) as inst:
        inst.invoke("golem:it/bench.{round-trips}", [2000])  # warm: caches, allocator arenas
        before = _rss_kib()
        inst.invoke("golem:it/bench.{round-trips}", [30000])  # 120,000 host calls
        grown = _rss_kib() - before
    print(f"RSS over 120,000 host calls: {grown} KiB", file=sys.stderr)
    if "asan" in os.environ.get("LD_PRELOAD", ""):
        return  # ASan keeps freed memory in quarantine; its own checks watched every free here
    # Each call allocates and frees C values (a promise-id record is about 200 bytes with its
    # names): kept, 120,000 calls would hold well over 8 MiB.  (Measured here: under 100 KiB.)
    assert grown < 8 * 1024
