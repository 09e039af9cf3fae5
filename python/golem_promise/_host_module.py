"""A drop-in for the host module Golem's Python tooling generates, so worker code runs unchanged.

Golem's Python workers import the host API from bindings that componentize-py generates for the
component's world, for example::

    from py_example.imports.host import create_promise, await_promise, PromiseId

``install_host_module("py_example.imports.host")`` registers a module under that name whose
functions act for golem-promise's current worker (:func:`golem_promise.current_worker`: the
innermost ``with worker:`` block, or the default worker), so such code runs in a unit test as it
is.

How: a finder first on ``sys.meta_path`` answers for the registered name, so every import form
(``from X import f``, ``import X``, ``import X as h``, ``importlib.import_module``) goes through
the import system as for a real module.  Parent packages are imported by that system as usual:
those that exist (on ``sys.path`` at import time, regular or namespace) are imported normally,
and the finder adds an empty package for each one that exists nowhere.  The import binds each
module as an attribute of its parent.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import types
from typing import Dict, Optional, Sequence

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
# Installed module name -> the module every import of that name gets.
_installed: Dict[str, types.ModuleType] = {}
# Parent packages the finder added because they exist nowhere: name -> module.
_added_parents: Dict[str, types.ModuleType] = {}


class _Loader(importlib.abc.Loader):
    """Hands out an installed module, or a new empty package for a parent that exists nowhere."""

    def __init__(self, module: Optional[types.ModuleType]) -> None:
        self._module = module

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        if self._module is not None:
            return self._module
        package = types.ModuleType(spec.name, "Package added by golem_promise.install_host_module.")
        with _lock:
            _added_parents[spec.name] = package
        return package

    def exec_module(self, module: types.ModuleType) -> None:
        """Nothing to run: the module is complete."""


class _Finder(importlib.abc.MetaPathFinder):
    """First on ``sys.meta_path`` while any host module is installed."""

    def find_spec(
        self,
        fullname: str,
        path: Optional[Sequence[str]],
        target: Optional[types.ModuleType] = None,
    ) -> Optional[importlib.machinery.ModuleSpec]:
        with _lock:
            module = _installed.get(fullname)
            is_parent = module is None and any(name.startswith(fullname + ".") for name in _installed)
        if module is not None:
            return importlib.machinery.ModuleSpec(fullname, _Loader(module))
        if not is_parent:
            return None
        # A parent of an installed name: the package that exists, found as without us ...
        for finder in list(sys.meta_path):
            find_spec = getattr(finder, "find_spec", None)
            if finder is self or find_spec is None:
                continue
            spec: Optional[importlib.machinery.ModuleSpec] = find_spec(fullname, path, target)
            if spec is not None:
                return spec
        # ... or an empty package that exists nowhere else.
        return importlib.machinery.ModuleSpec(fullname, _Loader(None), is_package=True)


_finder = _Finder()


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
    and the ``GetPromiseResult`` resource.  Every import of ``name``, in any form, gets this
    module, even where a real module of that name exists.  As for any module, the first import
    loads it: parent packages that exist then are imported as usual, those that exist nowhere
    are added as empty packages, and the module is bound on its parent.  Installing a name
    again replaces the module (code that imported the old one keeps it).  ``types_name`` also
    registers the records under a second name, for code that imports them from the RPC types
    module (e.g. ``"py_example.imports.golem_rpc_types"``).  Undo with
    :func:`uninstall_host_module`.
    """
    if not isinstance(name, str) or not name or any(not part.isidentifier() for part in name.split(".")):
        raise ValueError(f"not a dotted module name: {name!r}")
    module = types.ModuleType(name)
    _fill(module)
    with _lock:
        _uninstall_locked(name)
        _installed[name] = module
        if _finder in sys.meta_path:
            sys.meta_path.remove(_finder)
        sys.meta_path.insert(0, _finder)
    if types_name is not None:
        types_module = install_host_module(types_name)
        for extra in HOST_FUNCTIONS + ("GetPromiseResult",):
            delattr(types_module, extra)
        types_module.__all__ = ["Uuid", "ComponentId", "WorkerId", "PromiseId"]  # type: ignore[attr-defined]
    return module


def _unload(name: str, module: types.ModuleType) -> None:
    """Takes ``module`` out of sys.modules and off its parent, if it is there."""
    if sys.modules.get(name) is module:
        del sys.modules[name]
    parent, _, child = name.rpartition(".")
    if parent and getattr(sys.modules.get(parent), child, None) is module:
        delattr(sys.modules[parent], child)


def _uninstall_locked(name: str) -> bool:
    module = _installed.pop(name, None)
    if module is None:
        return False
    _unload(name, module)
    # Packages we added and no installed name needs any more, innermost first.
    for parent in sorted(_added_parents, key=len, reverse=True):
        if not any(other.startswith(parent + ".") for other in _installed):
            _unload(parent, _added_parents.pop(parent))
    if not _installed and _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    return True


def uninstall_host_module(name: str) -> bool:
    """Removes a module :func:`install_host_module` registered, and the empty parent packages
    added for it (packages that exist stay imported).

    Returns False if ``name`` was not installed.  Modules that imported names from it keep them.
    """
    with _lock:
        return _uninstall_locked(name)
