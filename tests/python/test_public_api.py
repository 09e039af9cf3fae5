"""The public Python API is documented and typed: docstrings and type hints on every public
function and method, each of them used in an executed example of docs/python.md, and stubs of
the compiled module that match it."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator, List, Set, Tuple

import pytest

import golem_promise as gp
from golem_promise import aio, cli, components, handles, pytest_plugin, testing
from golem_promise.components import testing as component_testing

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "python.md").read_text(encoding="utf-8")
# What test_docs.py executes: every ```python block.
EXAMPLES = "\n".join(m.group(2) for m in re.finditer(r"^```python( pytest)?\n(.*?)^```$", GUIDE, re.S | re.M))

MODULES = [gp, aio, handles, testing, pytest_plugin, cli, components, component_testing]
# The classes whose methods, properties and fields users call.
CLASSES = [
    gp.Host, gp.Worker, gp.Server, gp.GetPromiseResult, gp.Pollable, gp.Uuid, gp.ComponentId,
    gp.WorkerId, gp.PromiseId, gp.OplogEntry, gp.PromiseInfo, gp.GolemPromiseError,
]


def _public_callables() -> Iterator[Tuple[str, Callable[..., object]]]:
    """Every public function of MODULES' __all__, and every public method of their classes."""
    seen: Set[object] = set()
    for module in MODULES:
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj) and obj not in seen:
                seen.add(obj)
                yield f"{module.__name__}.{name}", obj
            elif inspect.isclass(obj) and obj.__module__.startswith("golem_promise") and obj not in seen:
                seen.add(obj)
                for attr, value in vars(obj).items():
                    if attr.startswith("_") and attr not in ("__init__", "__enter__", "__exit__"):
                        continue
                    if isinstance(value, (classmethod, staticmethod)):
                        value = value.__func__
                    elif isinstance(value, property):
                        value = value.fget
                    if inspect.isfunction(value):
                        yield f"{module.__name__}.{name}.{attr}", value


CALLABLES = list(_public_callables())


def test_there_is_a_public_api_to_check() -> None:
    assert len(CALLABLES) >= 90


@pytest.mark.parametrize("name,func", CALLABLES, ids=[name for name, _ in CALLABLES])
def test_public_callable_has_a_docstring_and_type_hints(name: str, func: Callable[..., object]) -> None:
    if not func.__name__.startswith("__"):
        assert (func.__doc__ or "").strip(), f"{name} has no docstring"
    signature = inspect.signature(func)
    missing = [
        p.name for p in signature.parameters.values() if p.name not in ("self", "cls") and p.annotation is p.empty
    ]
    assert missing == [], f"{name}: parameters without a type hint"
    assert signature.return_annotation is not signature.empty, f"{name} has no return type hint"


def _documented_members() -> List[str]:
    """Public functions of the package and aio, and every public method, property and field of
    CLASSES (classes themselves are reached through these)."""
    names = [n for n in gp.__all__ if inspect.isfunction(getattr(gp, n))]
    names += [n for n in aio.__all__ if inspect.isfunction(getattr(aio, n))]
    for cls in CLASSES:
        for attr in list(vars(cls)) + list(getattr(cls, "__dataclass_fields__", {})):
            if not attr.startswith("_"):
                names.append(f"{cls.__name__}.{attr}")
    return sorted(set(names))


@pytest.mark.parametrize("name", _documented_members())
def test_the_guide_has_a_runnable_example_using(name: str) -> None:
    attr = name.rpartition(".")[2]
    if "." in name:  # a method, property or field: used as .attr
        assert re.search(r"\." + re.escape(attr) + r"\b", EXAMPLES), f"no example in docs/python.md uses {name}"
    else:  # a function or class: named in an example
        assert re.search(r"\b" + re.escape(attr) + r"\b", EXAMPLES), f"no example in docs/python.md uses {name}"


def test_every_public_name_is_mentioned_in_the_guide() -> None:
    missing = [n for n in gp.__all__ + aio.__all__ if n != "__version__" and not re.search(rf"\b{n}\b", GUIDE)]
    assert missing == []


def test_the_stubs_match_the_compiled_module(tmp_path: Path) -> None:
    """mypy's stubtest compares _core.pyi with the compiled module: every function, class,
    method and constant on both sides (pybind11 exposes no parameter lists to compare).
    pybind11's own shape of classes (their metaclass, a generic __init__ for classes without a
    constructor) is allowed."""
    pytest.importorskip("mypy.stubtest")
    allow = tmp_path / "allowlist.txt"
    allow.write_text(
        "golem_promise._core.\\w+\n"  # "metaclass differs": pybind11_type
        "golem_promise._core.\\w+.__init__\n"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "golem_promise._core", "--allowlist", str(allow)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_module_of_the_package_is_used() -> None:
    """Importing the package and its public modules imports every private module: one that
    nothing imports is dead code (as _async.py, a thread-per-wait await, was once aio had its
    change-feed watcher)."""
    code = (
        "import pkgutil, sys, golem_promise\n"
        "names = [m.name for m in pkgutil.iter_modules(golem_promise.__path__)]\n"
        "for name in names:\n"
        "    if not name.startswith('_'):\n"
        "        __import__('golem_promise.' + name)\n"
        "print(' '.join(n for n in names if 'golem_promise.' + n not in sys.modules))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [], "modules nothing imports"
