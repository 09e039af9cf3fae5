"""Properties of the Python surface over generated input (hypothesis): only the package's
documented exception classes escape, ids that parse print back to themselves, payloads and JSON
come back as given, a completion acknowledged before a failing call is still there after it,
and the CLI never prints a traceback.  (Issue 22, "the Python surface".)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator, List

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import golem_promise as gp
from golem_promise import ComponentId, Host, PromiseId, Uuid, WorkerId

COMPONENT = ComponentId.from_uuid(uuid.UUID("9e9e9e9e-0000-4000-8000-000000000022"))
# TimeoutError is the one builtin the package documents (await with a timeout).
DOCUMENTED = (gp.GolemPromiseError, TimeoutError)

names = st.text(alphabet=st.characters(codec="utf-8"), max_size=130)
id_texts = st.one_of(
    names,
    st.builds(lambda u, n, i: f"{u}/{n}/{i}", st.uuids(), names, st.integers(-5, 2**65)),
    st.builds(lambda u, n: f"{u}/{n}", st.uuids(), names),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**64) | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
# make test runs the default number of examples; GP_HYPOTHESIS_PROFILE=thorough searches longer.
settings.register_profile("gp", deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
settings.register_profile("thorough", parent=settings.get_profile("gp"), max_examples=2000)
settings.load_profile(os.environ.get("GP_HYPOTHESIS_PROFILE", "gp"))


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    with Host(str(tmp_path_factory.mktemp("props") / "props.db"), synchronous="normal") as h:
        yield h


def _only_documented(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except DOCUMENTED as e:
        return e


@given(id_texts)
def test_ids_parse_to_themselves_or_raise_invalid_id(text: str) -> None:
    for cls in (Uuid, WorkerId, PromiseId):
        try:
            value = cls.parse(text)
        except gp.InvalidId as e:
            assert e.message and "\ufffd" not in e.message
            continue
        assert cls.parse(str(value)) == value


@given(names)
def test_worker_names_open_a_worker_or_raise_invalid_id(host: Host, name: str) -> None:
    try:
        worker = host.worker(COMPONENT, name)
    except gp.InvalidId:
        return
    assert worker.worker_id.worker_name == name


@given(id_texts, st.binary(max_size=64))
def test_host_calls_on_any_promise_text_raise_only_documented_errors(host: Host, text: str, data: bytes) -> None:
    for call in (
        lambda: host.poll_promise(text),
        lambda: host.complete_promise(text, data),
        lambda: host.await_promise(text, timeout=0),
        lambda: host.delete_promise(text),
    ):
        _only_documented(call)


@given(st.binary(max_size=4096))
def test_payloads_come_back_as_given(host: Host, data: bytes) -> None:
    worker = host.worker(COMPONENT, "payloads")
    pid = worker.create_promise()
    assert host.complete_promise(pid, data) is True
    assert host.complete_promise(pid, b"second") is False
    assert host.poll_promise(pid) == data
    assert worker.await_promise(pid, timeout=0) == data


@given(json_values)
def test_json_payloads_round_trip(host: Host, value: Any) -> None:
    worker = host.worker(COMPONENT, "json")
    pid = worker.create_promise()
    assert host.complete_promise_json(pid, value) is True
    assert worker.await_promise_json(pid, timeout=0) == json.loads(json.dumps(value))


failing_calls = st.sampled_from(["bad-id", "missing", "pending-await", "other-worker-await", "delete-missing", "too-big-json"])


@given(st.binary(min_size=1, max_size=256), st.lists(failing_calls, min_size=1, max_size=4))
def test_an_acknowledged_completion_survives_failing_calls(tmp_path_factory: pytest.TempPathFactory, data: bytes, failures: List[str]) -> None:
    db = str(tmp_path_factory.mktemp("ack") / "ack.db")
    with Host(db) as h:
        worker = h.worker(COMPONENT, "acked")
        acked = worker.create_promise()
        pending = worker.create_promise()
        assert h.complete_promise(acked, data) is True
        other = h.worker(COMPONENT, "other")
        for failure in failures:
            outcome = _only_documented({
                "bad-id": lambda: h.poll_promise("not/an/id"),
                "missing": lambda: h.complete_promise(PromiseId(worker.worker_id, 999), b"x"),
                "pending-await": lambda: worker.await_promise(pending, timeout=0),
                "other-worker-await": lambda: other.await_promise(acked, timeout=0),
                "delete-missing": lambda: h.delete_promise(PromiseId(worker.worker_id, 998)),
                "too-big-json": lambda: h.complete_promise_json(pending, float("nan")),
            }[failure])
            assert outcome is None or isinstance(outcome, (bool, bytes, Exception))
        assert h.poll_promise(acked) == data
    with Host(db) as h:  # and after the process's handles are gone
        assert h.poll_promise(acked) == data


def _cli() -> str:
    found = shutil.which("golem-promise", path=os.path.dirname(sys.executable))
    assert found is not None
    return found


cli_words = st.sampled_from(["create", "complete", "poll", "await", "delete", "list", "oplog", "run", "serve"])
cli_args = st.lists(
    st.one_of(
        st.sampled_from(["--json", "--data", "--timeout", "--worker", "--state", "--invoke", "-1", "0", "nan", "{", "[]"]),
        id_texts,
        st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"), max_size=30),
    ),
    max_size=4,
)


@settings(max_examples=40)
@given(cli_words, cli_args)
def test_the_cli_never_prints_a_traceback(tmp_path_factory: pytest.TempPathFactory, command: str, args: List[str]) -> None:
    args = [a.replace("\x00", "") for a in args]  # argv cannot carry NUL
    if command == "serve":
        args = [*args, "--port", "-1"]  # never actually serve
    if command == "await":
        args = [*args, "--timeout", "0"]
    cwd: Path = tmp_path_factory.mktemp("cli")
    done = subprocess.run(
        [_cli(), command, "--db", str(cwd / "cli.db"), *args],
        capture_output=True, text=True, cwd=cwd, timeout=60, stdin=subprocess.DEVNULL,
        env={k: v for k, v in os.environ.items() if not k.startswith("GOLEM_PROMISE_")},
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode in (0, 1, 2, 3, 4, 5, 6, 7), (done.returncode, done.stderr)
    if done.returncode not in (0, 2):
        assert done.stderr.strip(), "a failure says why"
