"""An approval worker as a Golem component (componentize-py, world `approval`).

`run-approval` creates a promise, prints its id and awaits it: whoever decides completes the
promise with `{"approved": true, "by": "ana"}` (golem-promise complete, the HTTP endpoint, or
another component's `approve`).  The same file deploys to Golem unchanged.
"""

import json
import uuid

from componentize_py_types import Err
from wit_world import exports
from wit_world.exports.api import Decision
from wit_world.imports import host, types


def promise_text(pid: host.PromiseId) -> str:
    """Golem's text form of a promise id: component-uuid/worker-name/oplog-idx."""
    u = pid.worker_id.component_id.uuid
    component = uuid.UUID(int=(u.high_bits << 64) | u.low_bits)
    return f"{component}/{pid.worker_id.worker_name}/{pid.oplog_idx}"


def parse_promise(text: str) -> host.PromiseId:
    """The promise id of its text form (ValueError if malformed)."""
    component, name, index = text.rsplit("/", 2)
    u = uuid.UUID(component).int
    uid = types.Uuid(high_bits=u >> 64, low_bits=u & (2**64 - 1))
    worker = types.WorkerId(component_id=types.ComponentId(uuid=uid), worker_name=name)
    return host.PromiseId(worker_id=worker, oplog_idx=int(index))


class Api(exports.Api):
    def run_approval(self, request: str) -> Decision:
        pid = host.create_promise()
        print(f"approval of {request!r} awaits promise {promise_text(pid)}", flush=True)
        payload = host.await_promise(pid)
        try:
            answer = json.loads(payload)
            approved = answer["approved"]
        except (ValueError, KeyError, TypeError):
            raise Err(f"not a decision: {payload[:80]!r}")
        if not isinstance(approved, bool):
            raise Err("approved must be true or false")
        by = answer.get("by")
        return Decision(request=request, approved=approved, by=by if isinstance(by, str) else None)

    def approve(self, promise: str, approved: bool, by: str) -> bool:
        payload = json.dumps({"approved": approved, "by": by}).encode()
        return host.complete_promise(parse_promise(promise), payload)
