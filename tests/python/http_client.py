"""A small real HTTP client for the endpoint tests (stdlib urllib and http.client only).

Proxies from the environment are ignored: the tests talk to 127.0.0.1 directly.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Union

from golem_promise import PromiseId, WorkerId

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@dataclass
class Response:
    """A status, headers (names in lower case) and body."""

    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body decoded as JSON."""
        return json.loads(self.body)


def request(
    method: str,
    url: str,
    body: Optional[Union[bytes, str]] = None,
    headers: Optional[Mapping[str, str]] = None,
    timeout: float = 10.0,
) -> Response:
    """One request on a new connection; 4xx/5xx come back as a Response, not an exception."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return Response(r.status, {k.lower(): v for k, v in r.headers.items()}, r.read())
    except urllib.error.HTTPError as e:
        with e:
            return Response(e.code, {k.lower(): v for k, v in e.headers.items()}, e.read())


def worker_path(worker: Union[WorkerId, str]) -> str:
    """``/v1/components/{component_id}/workers/{worker_name}`` of a worker id."""
    wid = WorkerId.parse(worker) if isinstance(worker, str) else worker
    return f"/v1/components/{wid.component_id}/workers/{wid.worker_name}"


def complete_body(oplog_idx: int, data: bytes) -> str:
    """Golem's completion body: ``{"oplogIdx": N, "data": [bytes]}``."""
    return json.dumps({"oplogIdx": oplog_idx, "data": list(data)})


def complete(
    base_url: str, promise_id: Union[PromiseId, str], data: bytes, token: Optional[str] = None
) -> Response:
    """POSTs Golem's completion of ``promise_id`` with ``data``."""
    pid = PromiseId.parse(promise_id) if isinstance(promise_id, str) else promise_id
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    url = f"{base_url}{worker_path(pid.worker_id)}/complete"
    return request("POST", url, complete_body(pid.oplog_idx, data), headers)


def keep_alive_connection(base_url: str, timeout: float = 10.0) -> http.client.HTTPConnection:
    """A persistent connection to ``http://HOST:PORT``."""
    hostport = base_url.split("://", 1)[1]
    host, _, port = hostport.rpartition(":")
    return http.client.HTTPConnection(host.strip("[]"), int(port), timeout=timeout)
