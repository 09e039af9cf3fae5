"""A drop-in for the host module Golem's Python tooling generates, so worker code runs unchanged.

Golem's Python workers import the host API from bindings that componentize-py generates for the
component's world, for example::

    from py_example.imports.host import create_promise, await_promise, PromiseId

``install_host_module("py_example.imports.host")`` registers a module under that name (and any
parent package that does not exist, as an empty namespace) whose functions act for
golem-promise's current worker (:func:`golem_promise.current_worker`: the innermost
``with worker:`` block, or the default worker), so such code runs in a unit test as it is.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import sys
import threading
import types
from typing import Dict, List, Optional

from . import _api, handles
from ._ids import ComponentId, PromiseId, Uuid, WorkerId

__all__ = ["install_host_module", "uninstall_host_module", "HOST_FUNCTIONS", "HOST_TYPES"]

#: The functions of Golem's generated host module that the installed module provides.
HOST_FUNCTIONS = (
    "create_promise",
    "await_promise",
    "poll_promise",
    "complete_promise",
    "delete_promise",
    "get_oplog_index",
    "get_promise",
)
#: The records (dataclasses, Golem's field names) and resources it provides.
HOST_TYPES = ("Uuid", "ComponentId", "WorkerId", "PromiseId", "GetPromiseResult")

_lock = threading.Lock()
# Installed module name -> the names this package added to sys.modules for it (leaf last).
_installed: Dict[str, List[str]] = {}


def _exists(name: str, created: List[str]) -> bool:
    """Whether ``name`` is a module that exists, without importing it or running its code."""
    if name in sys.modules:
        return True
    parent, _, child = name.rpartition(".")
    if not parent:
        try:
            return importlib.machinery.PathFinder.find_spec(name) is not None
        except Exception:  # noqa: BLE001 - an unreadable path entry: treat as absent
            return False
    if parent in created:
        return False
    try:
        parent_spec = sys.modules[parent].__spec__ if parent in sys.modules else importlib.util.find_spec(parent)
    except (ImportError, ValueError):
        return False
    locations = parent_spec.submodule_search_locations if parent_spec is not None else None
    if not locations:
        return False
    # Look at the files, not through the import system: a namespace parent that is not
    # imported yet cannot be searched without importing it.
    suffixes = importlib.machinery.all_suffixes()
    for location in list(locations):
        base = os.path.join(location, child)
        if os.path.isdir(base) or any(os.path.isfile(base + suffix) for suffix in suffixes):
            return True
    return False


def _fill(module: types.ModuleType) -> None:
    module.__doc__ = (
        "golem-promise's stand-in for Golem's generated host module (golem:api/host): the "
        "functions act for golem_promise.current_worker()."
    )
    module.create_promise = _api.create_promise  # type: ignore[attr-defined]
    module.await_promise = _await_promise  # type: ignore[attr-defined]
    module.poll_promise = _api.poll_promise  # type: ignore[attr-defined]
    module.complete_promise = _complete_promise  # type: ignore[attr-defined]
    module.delete_promise = _api.delete_promise  # type: ignore[attr-defined]
    module.get_oplog_index = _api.get_oplog_index  # type: ignore[attr-defined]
    module.get_promise = handles.get_promise  # type: ignore[attr-defined]
    module.Uuid = Uuid  # type: ignore[attr-defined]
    module.ComponentId = ComponentId  # type: ignore[attr-defined]
    module.WorkerId = WorkerId  # type: ignore[attr-defined]
    module.PromiseId = PromiseId  # type: ignore[attr-defined]
    module.GetPromiseResult = handles.GetPromiseResult  # type: ignore[attr-defined]
    module.__all__ = list(HOST_FUNCTIONS + HOST_TYPES)  # type: ignore[attr-defined]


def _await_promise(promise_id: PromiseId) -> bytes:
    """Golem's await-promise: blocks until the current worker's promise is completed."""
    return _api.await_promise(promise_id)


def _complete_promise(promise_id: PromiseId, data: bytes) -> bool:
    """Golem's complete-promise: True if this call completed the promise."""
    return _api.complete_promise(promise_id, data)


def install_host_module(name: str, *, types_name: Optional[str] = None) -> types.ModuleType:
    """Registers Golem's host API under the dotted module ``name`` and returns the module.

    The module has ``create_promise``, ``await_promise``, ``poll_promise``,
    ``complete_promise``, ``delete_promise``, ``get_oplog_index`` and ``get_promise`` (acting for
    the current worker) and the records ``Uuid``, ``ComponentId``, ``WorkerId``, ``PromiseId``
    and the ``GetPromiseResult`` resource.  Parent packages that do not exist are added as empty
    namespace modules; existing ones are left as they are (and are not imported).  Installing a
    name again replaces the module.  ``types_name`` also registers the records under a second
    name, for code that imports them from the RPC types module (e.g.
    ``"py_example.imports.golem_rpc_types"``).  Undo with :func:`uninstall_host_module`.
    """
    if not isinstance(name, str) or not name or any(not part.isidentifier() for part in name.split(".")):
        raise ValueError(f"not a dotted module name: {name!r}")
    with _lock:
        _uninstall_locked(name)
        created: List[str] = []
        parts = name.split(".")
        for depth in range(1, len(parts)):
            parent = ".".join(parts[:depth])
            if not _exists(parent, created):
                package = types.ModuleType(parent, "Namespace added by golem_promise.install_host_module.")
                package.__path__ = []
                sys.modules[parent] = package
                created.append(parent)
        module = types.ModuleType(name)
        _fill(module)
        sys.modules[name] = module
        created.append(name)
        # Link each module we know of to its parent, as an import would.
        for depth in range(len(parts) - 1, 0, -1):
            parent = ".".join(parts[:depth])
            child = ".".join(parts[: depth + 1])
            if parent in sys.modules and child in sys.modules:
                setattr(sys.modules[parent], parts[depth], sys.modules[child])
        _installed[name] = created
    if types_name is not None:
        types_module = install_host_module(types_name)
        for extra in HOST_FUNCTIONS + ("GetPromiseResult",):
            delattr(types_module, extra)
        types_module.__all__ = ["Uuid", "ComponentId", "WorkerId", "PromiseId"]  # type: ignore[attr-defined]
    return module


def _uninstall_locked(name: str) -> bool:
    created = _installed.pop(name, None)
    if created is None:
        return False
    for module_name in reversed(created):
        module = sys.modules.pop(module_name, None)
        parent, _, child = module_name.rpartition(".")
        if parent and module is not None and getattr(sys.modules.get(parent), child, None) is module:
            delattr(sys.modules[parent], child)
    return True


def uninstall_host_module(name: str) -> bool:
    """Removes a module :func:`install_host_module` added (and the parents it created).

    Returns False if ``name`` was not installed.  Modules that imported names from it keep them.
    """
    with _lock:
        return _uninstall_locked(name)
