"""The package's modules import one way, layer by layer (docs/architecture.md): the graph of
every import in the sources (at module level, inside functions and under TYPE_CHECKING alike)
has no cycle, and no module imports one of a higher layer."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Optional, Set

PACKAGE = Path(__file__).resolve().parents[2] / "python" / "golem_promise"

#: Lowest first: the extension; ids and errors; the host layer (its helpers, then the objects,
#: then the current worker); handles and asyncio; the module-level Golem API; the tools on top.
LAYERS: List[Set[str]] = [
    {"_core"},
    {"_errors", "_ids", "_json", "_timeout", "_version"},
    {"_listing", "_server", "_waits"},
    {"_host"},
    {"_current"},
    {"handles", "aio"},
    {"_api", "_host_module"},
    {"cli", "testing", "pytest_plugin", "components"},
    {"__init__"},
]


def _module_name(path: Path, package: Path) -> str:
    rel = path.relative_to(package).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts.pop()
    return ".".join(parts)


def _resolve(importer: str, is_package: bool, module: Optional[str], level: int, names: List[str], known: Set[str]) -> List[str]:
    """The package modules an import statement of ``importer`` names."""
    if level == 0:
        if not module or not (module == "golem_promise" or module.startswith("golem_promise.")):
            return []
        base = module[len("golem_promise"):].lstrip(".")
    else:
        here = importer.split(".") if importer != "__init__" else []
        if not is_package:
            here = here[:-1]
        up = level - 1
        if up > len(here):
            raise AssertionError(f"{importer}: relative import above the package")
        here = here[: len(here) - up]
        base = ".".join(here + ([module] if module else []))
    out = []
    for name in names or [""]:
        full = f"{base}.{name}" if base and name else (name or base)
        if full in known:
            out.append(full)  # a submodule (from . import _core, from .components import testing)
        elif base in known or base == "":
            out.append(base or "__init__")  # a name defined in a module (or the package's __init__)
    return out


def import_graph(package: Path = PACKAGE) -> Dict[str, Set[str]]:
    """module -> the package modules it imports (``_core`` is the compiled extension)."""
    files = {(_module_name(p, package) if p.name != "__init__.py" or p.parent != package else "__init__"): p for p in package.rglob("*.py")}
    known = set(files) | {"_core"}
    graph: Dict[str, Set[str]] = {name: set() for name in files}
    for name, path in files.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        is_package = path.name == "__init__.py"
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                targets = _resolve(name, is_package, node.module, node.level, [a.name for a in node.names], known)
            elif isinstance(node, ast.Import):
                targets = [t for a in node.names for t in _resolve(name, False, a.name, 0, [], known)]
            else:
                continue
            graph[name].update(t for t in targets if t != name)
    return graph


def find_cycle(graph: Dict[str, Set[str]]) -> Optional[List[str]]:
    """One import cycle (its modules, the first repeated at the end), or None."""
    state: Dict[str, int] = {}  # 1 = on the current path, 2 = done
    path: List[str] = []

    def visit(node: str) -> Optional[List[str]]:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def _layer(module: str) -> int:
    top = "components" if module.startswith("components") else module
    for i, members in enumerate(LAYERS):
        if top in members:
            return i
    raise AssertionError(f"module {module} is in no layer of LAYERS: place it")


def test_the_package_has_no_import_cycle() -> None:
    graph = import_graph()
    assert "_host" in graph and "aio" in graph and "components._link" in graph  # the sources were found
    assert find_cycle(graph) is None, " -> ".join(find_cycle(graph) or [])


def test_no_module_imports_a_higher_layer() -> None:
    upward = [f"{m} (layer {_layer(m)}) imports {t} (layer {_layer(t)})" for m, ts in import_graph().items() for t in ts if _layer(t) > _layer(m)]
    assert upward == []


def test_the_check_sees_imports_inside_functions_and_for_type_checking(tmp_path: Path) -> None:
    # The same analysis over a small package with a circle that only a function-level and a
    # TYPE_CHECKING import close: both are found.
    pkg = tmp_path / "golem_promise"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import A\n")
    (pkg / "a.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .b import B\nclass A: ...\n")
    (pkg / "b.py").write_text("def f():\n    from . import c\n")
    (pkg / "c.py").write_text("from .a import A\n")
    graph = import_graph(pkg)
    assert graph["a"] == {"b"} and graph["b"] == {"c"} and graph["c"] == {"a"}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
