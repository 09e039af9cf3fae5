"""Server: Golem's REST completion endpoint served from a host (``Host.serve``).

The server itself is the C++ core's (``gp_server_*``, docs/http.md): it answers on its own
threads, so Python code keeps running (and may use the host) while it serves, and requests are
answered without taking the GIL.
"""

from __future__ import annotations

from types import TracebackType
import math
from typing import TYPE_CHECKING, Optional, Type

from . import _core
from ._errors import InvalidId

if TYPE_CHECKING:
    from ._host import Host

__all__ = [
    "Server",
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_THREADS",
    "MAX_THREADS",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
    "MAX_TIMEOUT",
]

#: Largest request body accepted when ``max_body_bytes`` is not given (64 MiB).
DEFAULT_MAX_BODY_BYTES: int = _core.SERVER_DEFAULT_MAX_BODY
#: Most GETs of a file host's promises waiting for the store at once when ``threads`` is not given (threads start as needed).
DEFAULT_THREADS: int = _core.SERVER_DEFAULT_THREADS
#: Most threads a server may have.
MAX_THREADS = 1024
#: Seconds from a request's first byte to its last when ``request_timeout`` is not given (10).
DEFAULT_REQUEST_TIMEOUT: float = _core.SERVER_DEFAULT_REQUEST_TIMEOUT_MS / 1000
#: Seconds an idle keep-alive connection stays open when ``idle_timeout`` is not given (2).
DEFAULT_IDLE_TIMEOUT: float = _core.SERVER_DEFAULT_IDLE_TIMEOUT_MS / 1000
#: Longest either timeout may be, in seconds (one hour).
MAX_TIMEOUT = 3600.0


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _timeout_ms(name: str, value: object) -> int:
    """Seconds (int or float, 0.001..3600) as the C server's milliseconds, rounded up."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{name} must be a number of seconds, not {type(value).__name__}")
    if not (math.isfinite(value) and 0 < value <= MAX_TIMEOUT):
        raise ValueError(f"{name} must be more than 0 and at most {MAX_TIMEOUT:g} seconds, got {value!r}")
    return max(1, math.ceil(value * 1000))


def _encodable(text: str) -> bool:
    """False for str that UTF-8 cannot encode (lone surrogates, e.g. undecodable argv bytes)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Server:
    """A running HTTP completion endpoint over a host; get one with :meth:`Host.serve`.

    It serves ``POST /v1/components/{component_id}/workers/{worker_name}/complete`` (Golem's
    REST call, body ``{"oplogIdx": N, "data": [bytes]}``), ``GET .../promises/{oplog_idx}``
    (our extension) and ``GET /healthz``; every status and body is in docs/http.md.
    Completions go through the host as the outside party and wake awaits in this process and,
    for a file host, in other processes.

    Use it as a context manager or call :meth:`close`.  The server keeps the database open
    while it runs, even if the :class:`Host` is closed first.
    """

    def __init__(self, host: Host, handle: _core.Server, token: Optional[str]) -> None:
        """Internal: use :meth:`Host.serve`."""
        self._host = host
        self._handle = handle
        self._token = token

    @classmethod
    def _start(
        cls,
        host: Host,
        handle: _core.Host,
        address: str,
        port: int,
        *,
        token: Optional[str],
        max_body_bytes: Optional[int],
        threads: Optional[int],
        request_timeout: Optional[float] = None,
        idle_timeout: Optional[float] = None,
    ) -> Server:
        """Checks the arguments and starts the C server (``gp_server_start``)."""
        if not isinstance(address, str):
            raise TypeError(f"host must be a str, not {type(address).__name__}")
        if address == "":
            raise ValueError("host must not be empty (use '127.0.0.1' for local connections only)")
        if not _encodable(address):
            raise ValueError(f"host {address!r} is not valid text (it has lone surrogates)")
        _check_int("port", port, 0, 65535)
        if token is not None:
            if not isinstance(token, str):
                raise TypeError(f"token must be a str or None, not {type(token).__name__}")
            if token == "":
                raise ValueError("token must not be empty (pass None for no authentication)")
            if not token.isascii():  # the core's own check, made here for text C cannot receive
                raise InvalidId("server token must be visible ASCII characters (no spaces or control characters)")
        body = 0 if max_body_bytes is None else _check_int("max_body_bytes", max_body_bytes, 1, 2**64 - 1)
        nthreads = 0 if threads is None else _check_int("threads", threads, 1, MAX_THREADS)
        request_ms = 0 if request_timeout is None else _timeout_ms("request_timeout", request_timeout)
        idle_ms = 0 if idle_timeout is None else _timeout_ms("idle_timeout", idle_timeout)
        return cls(host, handle.serve(address, port, token, body, nthreads, request_ms, idle_ms), token)

    @property
    def url(self) -> str:
        """The base URL, ``"http://127.0.0.1:PORT"`` (``"http://[addr]:PORT"`` for IPv6)."""
        return self._handle.url

    @property
    def port(self) -> int:
        """The TCP port listened on (the one the system chose when ``port=0``)."""
        return self._handle.port

    @property
    def token(self) -> Optional[str]:
        """The bearer token requests must carry, or None when no authentication is required."""
        return self._token

    @property
    def host(self) -> Host:
        """The host whose promises this server completes."""
        return self._host

    @property
    def closed(self) -> bool:
        """True once :meth:`close` has been called."""
        return self._handle.stopped

    def close(self) -> None:
        """Stops the server: no new connections, open ones closed, threads joined.

        It waits for no client: a request still arriving is cut short and idle connections are
        closed at once; only completions already being handled finish (their commits are not
        interrupted).  Calling it again does nothing.
        """
        self._handle.stop()

    def __enter__(self) -> Server:
        """Returns the server itself."""
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        """Closes the server."""
        self.close()

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        auth = " token" if self._token is not None else ""
        return f"<golem_promise.Server {self.url}{auth}{state}>"
