"""Human-in-the-loop approval, Golem style.

A worker asks for approval: it creates a promise, publishes the promise id (here: puts it on a
queue; in Golem: sends it in an e-mail or a chat message), and waits for the decision.  An
approver (here a thread; in Golem a person clicking a link that calls the REST API) completes the
promise with a JSON decision, and the worker resumes with it.

Run:  python examples/approval.py
"""

from __future__ import annotations

import queue
import sys
import threading
from typing import Any, Dict

from golem_promise import (
    ComponentId,
    Host,
    PromiseId,
    await_promise_json,
    create_promise,
    get_oplog_index,
)

COMPONENT = ComponentId.parse("8c5d2f0e-6b1a-4d1c-9a8e-3f2b7c4d5e6f")
_print_lock = threading.Lock()


def say(line: str) -> None:
    """Prints one whole line: print() writes text and newline separately, so two threads' lines
    could run into each other."""
    with _print_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def approver(host: Host, inbox: "queue.Queue[PromiseId]") -> None:
    """The outside party: reads the request and completes the promise with a decision."""
    promise_id = inbox.get(timeout=10)
    decision: Dict[str, Any] = {"approved": True, "by": "alice"}
    completed = host.complete_promise_json(promise_id, decision)
    say(f"approver: decided on {promise_id} (completed={completed})")


def request_approval(host: Host, inbox: "queue.Queue[PromiseId]") -> Dict[str, Any]:
    """The worker: creates a promise, hands out its id, and waits for the decision."""
    with host.worker(COMPONENT, "expense-report-42"):
        promise_id = create_promise()
        say(f"worker: waiting for approval of {promise_id}")
        inbox.put(promise_id)
        decision: Dict[str, Any] = await_promise_json(promise_id, timeout=30)
        say(f"worker: resumed at oplog index {get_oplog_index()}")
        return decision


def main() -> int:
    """Runs the flow on an in-memory host and prints the outcome."""
    inbox: "queue.Queue[PromiseId]" = queue.Queue()
    with Host(":memory:") as host:
        thread = threading.Thread(target=approver, args=(host, inbox))
        thread.start()
        decision = request_approval(host, inbox)
        thread.join()
    verdict = "approved" if decision.get("approved") else "rejected"
    say(f"outcome: {verdict} by {decision.get('by')}")
    return 0 if decision.get("approved") is True else 1


if __name__ == "__main__":
    raise SystemExit(main())
