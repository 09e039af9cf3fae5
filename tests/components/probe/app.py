"""The tests' probe component (componentize-py, world `probe-world`): every kind of WIT value,
direct host calls, an exception and an unimplemented import."""

import random
import time

from wit_world import exports
from wit_world.exports.probe import Everything
from wit_world.imports import host


class Probe(exports.Probe):
    def echo(self, value: Everything) -> Everything:
        return value

    def create(self) -> host.PromiseId:
        return host.create_promise()

    def wait(self, promise: host.PromiseId) -> bytes:
        return host.await_promise(promise)

    def poll(self, promise: host.PromiseId):
        return host.poll_promise(promise)

    def complete(self, promise: host.PromiseId, data: bytes) -> bool:
        return host.complete_promise(promise, data)

    def delete(self, promise: host.PromiseId) -> None:
        host.delete_promise(promise)

    def oplog_index(self) -> int:
        return host.get_oplog_index()

    def fail(self, message: str) -> None:
        raise ValueError(message)

    def idempotency_key(self) -> str:
        key = host.generate_idempotency_key()
        return f"{key.high_bits:016x}{key.low_bits:016x}"

    def entropy_wait(self):
        draw = random.getrandbits(64)
        now = time.time_ns()
        pid = host.create_promise()
        print(f"entropy {draw} {now} awaits {pid.oplog_idx}", flush=True)
        return (draw, now, host.await_promise(pid))

    def monotonic_wait(self, ms: int):
        before = time.monotonic_ns()
        time.sleep(ms / 1000)
        after = time.monotonic_ns()
        pid = host.create_promise()
        print(f"monotonic {before} {after} awaits {pid.oplog_idx}", flush=True)
        return (before, after, host.await_promise(pid))

    def round_trips(self, n: int) -> int:
        last = 0
        for _ in range(n):
            pid = host.create_promise()
            host.complete_promise(pid, b"x")
            host.await_promise(pid)
            host.delete_promise(pid)
            last = pid.oplog_idx
        return last
