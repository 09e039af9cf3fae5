"""The WIT subset in wit/golem-host.wit, the C header and the Python package agree.

Every function declared in the WIT interface has a worker-level C function and a Python
function of the same name; the records have the same fields in C and in the Python
dataclasses.  The WIT-to-C and WIT-to-Python mappings are written out below on purpose: adding
a WIT function without deciding where it lives makes these tests fail.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Dict, List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[2]
WIT_FILE = ROOT / "wit" / "golem-host.wit"
HEADER = ROOT / "include" / "golem_promise.h"

# WIT function -> (C ABI function, Python function of the golem_promise package)
FUNCTIONS: Dict[str, Tuple[str, str]] = {
    "create-promise": ("gp_worker_create_promise", "create_promise"),
    "await-promise": ("gp_worker_await_promise", "await_promise"),
    "poll-promise": ("gp_worker_poll_promise", "poll_promise"),
    "complete-promise": ("gp_worker_complete_promise", "complete_promise"),
    "delete-promise": ("gp_worker_delete_promise", "delete_promise"),
    "get-oplog-index": ("gp_worker_get_oplog_index", "get_oplog_index"),
}

# WIT record -> (C struct, Python dataclass)
RECORDS: Dict[str, Tuple[str, str]] = {
    "uuid": ("gp_uuid_t", "Uuid"),
    "component-id": ("", "ComponentId"),  # C flattens it: gp_worker_id_t.component_id is a gp_uuid_t
    "worker-id": ("gp_worker_id_t", "WorkerId"),
    "promise-id": ("gp_promise_id_t", "PromiseId"),
}

# Golem's declarations (golem:api/host@1.1.7), which the WIT file must reproduce exactly.
GOLEM_SIGNATURES: Dict[str, Tuple[str, str]] = {
    "create-promise": ("", "promise-id"),
    "await-promise": ("promise-id: promise-id", "list<u8>"),
    "poll-promise": ("promise-id: promise-id", "option<list<u8>>"),
    "complete-promise": ("promise-id: promise-id, data: list<u8>", "bool"),
    "delete-promise": ("promise-id: promise-id", ""),
    "get-oplog-index": ("", "oplog-index"),
}
GOLEM_RECORDS: Dict[str, List[Tuple[str, str]]] = {
    "uuid": [("high-bits", "u64"), ("low-bits", "u64")],
    "component-id": [("uuid", "uuid")],
    "worker-id": [("component-id", "component-id"), ("worker-name", "string")],
    "promise-id": [("worker-id", "worker-id"), ("oplog-idx", "oplog-index")],
}


def snake(name: str) -> str:
    return name.replace("-", "_")


def strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    return re.sub(r"//[^\n]*", "", text)


def wit_source() -> str:
    return strip_comments(WIT_FILE.read_text(encoding="utf-8"))


def wit_functions() -> Dict[str, Tuple[str, str]]:
    """name -> (parameters, result) for each `name: func(params) -> result;`."""
    found: Dict[str, Tuple[str, str]] = {}
    pattern = re.compile(r"([a-z][a-z0-9-]*)\s*:\s*func\s*\(([^)]*)\)\s*(?:->\s*([^;]+?))?\s*;")
    for m in pattern.finditer(wit_source()):
        name, params, result = m.group(1), " ".join(m.group(2).split()), (m.group(3) or "").strip()
        assert name not in found, f"{name} declared twice"
        found[name] = (params, result)
    return found


def wit_records() -> Dict[str, List[Tuple[str, str]]]:
    records: Dict[str, List[Tuple[str, str]]] = {}
    for m in re.finditer(r"\brecord\s+([a-z][a-z0-9-]*)\s*\{([^}]*)\}", wit_source()):
        fields = [f.strip() for f in m.group(2).split(",") if f.strip()]
        records[m.group(1)] = [tuple(x.strip() for x in f.split(":", 1)) for f in fields]  # type: ignore[misc]
    return records


def header_source() -> str:
    return strip_comments(HEADER.read_text(encoding="utf-8"))


def c_struct_fields(struct: str) -> List[str]:
    m = re.search(r"typedef\s+struct\s+" + re.escape(struct) + r"\s*\{([^}]*)\}\s*" + re.escape(struct) + r"\s*;",
                  header_source())
    assert m, f"struct {struct} not found in {HEADER.name}"
    names = []
    for decl in m.group(1).split(";"):
        decl = re.sub(r"\[[^\]]*\]", "", decl).strip()  # drop array bounds
        if decl:
            names.append(decl.split()[-1].lstrip("*"))
    return names


# ---------------------------------------------------------------- the WIT file itself

def test_wit_file_declares_the_golem_api_package_and_host_interface() -> None:
    src = wit_source()
    assert re.search(r"^\s*package\s+golem:api@1\.1\.\d+\s*;", src, flags=re.M)
    assert re.search(r"\binterface\s+host\s*\{", src)
    assert re.search(r"\bworld\s+golem-host\s*\{\s*import\s+host\s*;\s*\}", src)


def test_wit_braces_balance() -> None:
    src = wit_source()
    depth = 0
    for ch in src:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


def test_every_wit_function_has_an_explicit_mapping() -> None:
    assert set(wit_functions()) == set(FUNCTIONS)


@pytest.mark.parametrize("name", sorted(GOLEM_SIGNATURES))
def test_wit_function_matches_golems_declaration(name: str) -> None:
    assert wit_functions()[name] == GOLEM_SIGNATURES[name]


@pytest.mark.parametrize("record", sorted(GOLEM_RECORDS))
def test_wit_record_matches_golems_declaration(record: str) -> None:
    assert wit_records()[record] == GOLEM_RECORDS[record]


def test_oplog_index_is_u64() -> None:
    assert re.search(r"\btype\s+oplog-index\s*=\s*u64\s*;", wit_source())


# ---------------------------------------------------------------- the C header

@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_c_header_declares_the_worker_function(name: str) -> None:
    c_name = FUNCTIONS[name][0]
    assert c_name == "gp_worker_" + snake(name)
    assert re.search(r"\bGP_API\b[^;]*\b" + re.escape(c_name) + r"\s*\(", header_source()), \
        f"{HEADER.name} does not declare {c_name}"


@pytest.mark.parametrize("record", sorted(r for r in RECORDS if RECORDS[r][0]))
def test_c_struct_has_the_wit_record_fields(record: str) -> None:
    struct = RECORDS[record][0]
    expected = [snake(field) for field, _ in GOLEM_RECORDS[record]]
    assert c_struct_fields(struct) == expected


# ---------------------------------------------------------------- the Python package

@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_python_package_has_the_function(name: str) -> None:
    import golem_promise
    py_name = FUNCTIONS[name][1]
    assert py_name == snake(name)
    assert callable(getattr(golem_promise, py_name, None)), f"golem_promise.{py_name} is missing"
    assert py_name in golem_promise.__all__


@pytest.mark.parametrize("record", sorted(RECORDS))
def test_python_dataclass_has_the_wit_record_fields(record: str) -> None:
    import golem_promise
    cls = getattr(golem_promise, RECORDS[record][1])
    assert dataclasses.is_dataclass(cls)
    assert [f.name for f in dataclasses.fields(cls)] == [snake(f) for f, _ in GOLEM_RECORDS[record]]


# golem-promise additions to a WIT function's parameters, each marked in the WIT file.
PYTHON_EXTRA_PARAMETERS: Dict[str, List[str]] = {"await-promise": ["timeout"]}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_python_functions_take_the_wit_parameters_in_order(name: str) -> None:
    import inspect

    import golem_promise
    wit_params = wit_functions()[name][0]
    expected = [snake(p.split(":")[0].strip()) for p in wit_params.split(",") if p.strip()]
    expected += PYTHON_EXTRA_PARAMETERS.get(name, [])
    for owner in (golem_promise, golem_promise.Worker):
        params = [p for p in inspect.signature(getattr(owner, snake(name))).parameters.values() if p.name != "self"]
        assert [p.name for p in params] == expected, f"{owner.__name__}.{snake(name)}"
        # The additions are optional, so a call written against Golem's signature works.
        assert all(p.default is not p.empty for p in params[len(expected) - len(PYTHON_EXTRA_PARAMETERS.get(name, [])):])
    if name in PYTHON_EXTRA_PARAMETERS:
        # The comment block right above the declaration marks the addition.
        above = WIT_FILE.read_text(encoding="utf-8").split(f"{name}: func")[0].splitlines()[:-1]
        comment: List[str] = []
        for line in reversed(above):
            if not line.strip().startswith("//"):
                break
            comment.append(line)
        assert "golem-promise:" in "\n".join(comment)
