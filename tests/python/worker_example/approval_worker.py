"""A Golem worker written the way Golem's Python guide writes one: it imports the host API from
the bindings componentize-py generates for its world (here the world package ``py_example``).

It runs unchanged under golem-promise once ``install_host_module("py_example.imports.host")``
has registered that module (tests/python/test_host_module.py); in Golem it would run as is.
"""

from __future__ import annotations

import json
from typing import Dict, List, Optional

from py_example.imports.host import (
    PromiseId,
    await_promise,
    complete_promise,
    create_promise,
    delete_promise,
    get_oplog_index,
    get_promise,
    poll_promise,
)


class ApprovalWorker:
    """Asks for approvals: one promise per request, completed by an outside party."""

    def __init__(self) -> None:
        self.requests: Dict[str, PromiseId] = {}

    def request_approval(self, request: str) -> PromiseId:
        """Creates the promise an approver will complete (e.g. from a link in an e-mail)."""
        promise_id = create_promise()
        self.requests[request] = promise_id
        return promise_id

    def wait_for_decision(self, request: str) -> bool:
        """Suspends until the approver completes the promise with ``{"approved": bool}``."""
        payload = await_promise(self.requests[request])
        decision = json.loads(payload.decode("utf-8"))
        return bool(decision["approved"])

    def check(self, request: str) -> Optional[bool]:
        """Polls without waiting: None while undecided."""
        payload = poll_promise(self.requests[request])
        return None if payload is None else bool(json.loads(payload)["approved"])

    def check_with_handle(self, request: str) -> Optional[bytes]:
        """The Golem 1.3+ style: get-promise, subscribe to its pollable, then get."""
        result = get_promise(self.requests[request])
        result.subscribe().block()
        return result.get()

    def self_approve(self, request: str) -> bool:
        """A worker may complete a promise itself."""
        return complete_promise(self.requests[request], b'{"approved": true}')

    def cancel(self, request: str) -> None:
        """Deletes the promise; deleting twice is fine."""
        delete_promise(self.requests.pop(request))

    def checkpoint(self) -> int:
        """The worker's oplog position."""
        return get_oplog_index()


def approve_all(worker: ApprovalWorker, requests: List[str]) -> List[bool]:
    """Self-approves every request and collects the decisions."""
    for request in requests:
        worker.request_approval(request)
        worker.self_approve(request)
    return [worker.wait_for_decision(r) for r in requests]
