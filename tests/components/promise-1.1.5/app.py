"""Golem's promise test component, rewritten in Python: create, await and poll on
golem:api/host@1.1.5, the version Golem 1.1.x deploys."""

from typing import Optional

from wit_world import exports
from wit_world.imports import host


class Api(exports.Api):
    def create(self) -> host.PromiseId:
        return host.create_promise()

    def await_(self, id: host.PromiseId) -> bytes:
        return host.await_promise(id)

    def poll(self, id: host.PromiseId) -> Optional[bytes]:
        return host.poll_promise(id)
