"""Identifier dataclasses: construction, immutability, hashing, text forms and validation."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

import golem_promise as gp
from golem_promise import ComponentId, Host, InvalidId, PromiseId, Uuid, WorkerId

TEXT = "a1a2a3a4-b1b2-c1c2-d1d2-d3d4d5d6d7d8"
HIGH = 0xA1A2A3A4B1B2C1C2
LOW = 0xD1D2D3D4D5D6D7D8


def make_promise_id(name: str = "worker-1", idx: int = 7) -> PromiseId:
    return PromiseId(WorkerId(ComponentId(Uuid(HIGH, LOW)), name), idx)


def test_uuid_high_bits_are_the_most_significant() -> None:
    u = Uuid.parse(TEXT)
    assert (u.high_bits, u.low_bits) == (HIGH, LOW)
    assert str(Uuid(HIGH, LOW)) == TEXT


def test_field_names_and_order_match_golem() -> None:
    assert [f.name for f in dataclasses.fields(Uuid)] == ["high_bits", "low_bits"]
    assert [f.name for f in dataclasses.fields(ComponentId)] == ["uuid"]
    assert [f.name for f in dataclasses.fields(WorkerId)] == ["component_id", "worker_name"]
    assert [f.name for f in dataclasses.fields(PromiseId)] == ["worker_id", "oplog_idx"]


def test_positional_and_keyword_construction_agree() -> None:
    positional = make_promise_id()
    keyword = PromiseId(
        worker_id=WorkerId(
            component_id=ComponentId(uuid=Uuid(high_bits=HIGH, low_bits=LOW)),
            worker_name="worker-1",
        ),
        oplog_idx=7,
    )
    assert positional == keyword
    assert hash(positional) == hash(keyword)


def test_ids_are_frozen() -> None:
    pid = make_promise_id()
    with pytest.raises(dataclasses.FrozenInstanceError):
        pid.oplog_idx = 8  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pid.worker_id.worker_name = "other"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        pid.worker_id.component_id.uuid.high_bits = 0  # type: ignore[misc]


def test_ids_are_hashable_and_compare_by_value() -> None:
    a, b, c = make_promise_id(idx=1), make_promise_id(idx=1), make_promise_id(idx=2)
    assert a == b and a != c
    assert len({a, b, c}) == 2
    assert {Uuid(1, 2): "x"}[Uuid(1, 2)] == "x"
    assert WorkerId(ComponentId(Uuid(1, 2)), "n") != WorkerId(ComponentId(Uuid(1, 2)), "m")


def test_text_forms() -> None:
    pid = make_promise_id()
    assert str(pid.worker_id.component_id) == TEXT
    assert str(pid.worker_id) == f"{TEXT}/worker-1"
    assert str(pid) == f"{TEXT}/worker-1/7"


@pytest.mark.parametrize(
    "value",
    [
        Uuid(0, 0),
        Uuid(2**64 - 1, 2**64 - 1),
        Uuid(HIGH, LOW),
        ComponentId(Uuid(HIGH, LOW)),
        WorkerId(ComponentId(Uuid(HIGH, LOW)), "_"),
        WorkerId(ComponentId(Uuid(HIGH, LOW)), "a" * 100),
        make_promise_id("Z-9_x", 0),
        make_promise_id("w", 2**64 - 1),
    ],
    ids=str,
)
def test_str_parse_round_trip(value: object) -> None:
    cls = type(value)
    assert cls.parse(str(value)) == value  # type: ignore[attr-defined]


def test_parse_accepts_upper_case_and_prints_lower_case() -> None:
    upper = TEXT.upper()
    assert Uuid.parse(upper) == Uuid(HIGH, LOW)
    assert str(ComponentId.parse(upper)) == TEXT
    assert str(WorkerId.parse(f"{upper}/Name")) == f"{TEXT}/Name"
    assert PromiseId.parse(f"{upper}/Name/3") == make_promise_id("Name", 3)


def test_promise_id_parse_splits_at_last_slash() -> None:
    pid = PromiseId.parse(f"{TEXT}/w-1/42")
    assert pid.worker_id.worker_name == "w-1"
    assert pid.oplog_idx == 42


@pytest.mark.parametrize(
    "cls, text",
    [
        (Uuid, ""),
        (Uuid, "not-a-uuid"),
        (Uuid, TEXT[:-1]),
        (Uuid, TEXT + "0"),
        (Uuid, TEXT.replace("a1", "g1")),
        (ComponentId, "a1a2"),
        (WorkerId, TEXT),
        (WorkerId, f"{TEXT}/"),
        (WorkerId, f"{TEXT}/bad name"),
        (WorkerId, f"{TEXT}/-leading-dash"),
        (WorkerId, f"{TEXT}/" + "a" * 101),
        (WorkerId, "nope/worker"),
        (PromiseId, f"{TEXT}/worker"),
        (PromiseId, f"{TEXT}/worker/"),
        (PromiseId, f"{TEXT}/worker/-1"),
        (PromiseId, f"{TEXT}/worker/x1"),
        (PromiseId, f"{TEXT}/worker/18446744073709551616"),
        (PromiseId, f"{TEXT}/-w/1"),
    ],
)
def test_bad_text_raises_invalid_id(cls: type, text: str) -> None:
    with pytest.raises(InvalidId) as info:
        cls.parse(text)  # type: ignore[attr-defined]
    assert isinstance(info.value, ValueError)
    assert info.value.code == -1
    assert str(info.value)  # carries the library's message


def test_parse_of_non_str_raises_type_error() -> None:
    with pytest.raises(TypeError):
        Uuid.parse(b"bytes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "build",
    [
        lambda: Uuid(-1, 0),
        lambda: Uuid(0, 2**64),
        lambda: PromiseId(WorkerId(ComponentId(Uuid(0, 0)), "w"), -1),
        lambda: PromiseId(WorkerId(ComponentId(Uuid(0, 0)), "w"), 2**64),
    ],
    ids=["negative-high", "low-too-big", "negative-idx", "idx-too-big"],
)
def test_out_of_range_fields_raise_invalid_id(build: object) -> None:
    with pytest.raises(InvalidId):
        build()  # type: ignore[operator]


def test_wrong_field_types_raise_type_error() -> None:
    with pytest.raises(TypeError):
        Uuid("1", 2)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Uuid(True, 2)
    with pytest.raises(TypeError):
        ComponentId(uuid.uuid4())  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        WorkerId(ComponentId(Uuid(0, 0)), 5)  # type: ignore[arg-type]


def test_uuid_conversions_to_and_from_stdlib() -> None:
    std = uuid.UUID(TEXT)
    assert Uuid.from_uuid(std) == Uuid(HIGH, LOW)
    assert Uuid(HIGH, LOW).to_uuid() == std
    assert ComponentId.from_uuid(std).to_uuid() == std
    for _ in range(20):
        random = uuid.uuid4()
        assert str(Uuid.from_uuid(random)) == str(random)
        assert Uuid.parse(str(random)).to_uuid() == random


@pytest.mark.parametrize(
    "name",
    ["", "a" * 101, "-leading", "has space", "slash/inside", "dot.name", "ünïcode", "tab\t", "nul\x00"],
    ids=["empty", "101-chars", "leading-dash", "space", "slash", "dot", "unicode", "tab", "nul"],
)
def test_bad_worker_names_are_rejected_when_creating_a_worker(host: Host, name: str) -> None:
    with pytest.raises(InvalidId) as info:
        host.worker(ComponentId(Uuid(1, 2)), name)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["a", "a" * 100, "A-z_0-9", "_x", "9", "x-"])
def test_good_worker_names_are_accepted(host: Host, name: str) -> None:
    w = host.worker(ComponentId(Uuid(1, 2)), name)
    assert w.worker_id.worker_name == name


def test_invalid_worker_name_message_states_the_rule(host: Host) -> None:
    with pytest.raises(InvalidId) as info:
        host.worker(ComponentId(Uuid(1, 2)), "-x")
    assert "100" in str(info.value)


def test_worker_accepts_every_component_id_form(host: Host) -> None:
    expected = WorkerId(ComponentId(Uuid(HIGH, LOW)), "w")
    for form in (ComponentId(Uuid(HIGH, LOW)), Uuid(HIGH, LOW), TEXT, TEXT.upper(), uuid.UUID(TEXT)):
        assert host.worker(form, "w").worker_id == expected


def test_ids_from_the_library_behave_like_constructed_ones(host: Host) -> None:
    worker = host.worker(ComponentId(Uuid(HIGH, LOW)), "worker-1")
    created = worker.create_promise()
    constructed = PromiseId(WorkerId(ComponentId(Uuid(HIGH, LOW)), "worker-1"), created.oplog_idx)
    parsed = PromiseId.parse(str(created))
    listed = host.list_promises(worker.worker_id)[0].promise_id
    for pid in (parsed, listed):
        assert pid == created == constructed
        assert hash(pid) == hash(created) == hash(constructed)
        assert repr(pid) == repr(constructed)
        assert dataclasses.asdict(pid) == dataclasses.asdict(constructed)
        assert type(pid.worker_id.component_id.uuid) is Uuid
    assert len({created, constructed, parsed, listed}) == 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        created.oplog_idx = 8  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        created.worker_id.worker_name = "other"  # type: ignore[misc]


def test_ids_survive_pickle_copy_and_replace(host: Host) -> None:
    import copy
    import pickle

    worker = host.worker(ComponentId(Uuid(HIGH, LOW)), "worker-1")
    pid = worker.create_promise()
    assert worker.complete_promise(pid, b"x")
    for clone in (pickle.loads(pickle.dumps(pid)), copy.copy(pid), copy.deepcopy(pid),
                  dataclasses.replace(pid)):
        assert clone == pid and hash(clone) == hash(pid)
        assert worker.poll_promise(clone) == b"x"
        assert not worker.complete_promise(clone, b"y")
    moved = dataclasses.replace(pid, oplog_idx=pid.oplog_idx + 1)
    assert moved.oplog_idx == pid.oplog_idx + 1
    with pytest.raises(gp.PromiseNotFound):
        worker.poll_promise(moved)
    with pytest.raises(InvalidId):
        dataclasses.replace(pid, oplog_idx=-1)


def test_a_constructed_id_with_a_bad_worker_name_is_refused_on_every_use(host: Host) -> None:
    pid = PromiseId(WorkerId(ComponentId(Uuid(HIGH, LOW)), "bad name"), 2)
    for _ in range(2):  # a refused id is not remembered as good
        with pytest.raises(InvalidId):
            host.poll_promise(pid)
    with pytest.raises(InvalidId):
        host.worker(ComponentId(Uuid(HIGH, LOW)), "w").complete_promise(pid, b"x")
