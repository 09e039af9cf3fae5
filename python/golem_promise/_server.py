"""The HTTP server's options: their defaults, limits and checks (the Server class is in _host).

The server itself is the C++ core's (``gp_server_*``, docs/http.md): it answers on its own
threads, so Python code keeps running (and may use the host) while it serves, and requests are
answered without taking the GIL.
"""

from __future__ import annotations

import math

from . import _core

__all__ = [
    "DEFAULT_MAX_BODY_BYTES",
    "DEFAULT_THREADS",
    "MAX_THREADS",
    "DEFAULT_REQUEST_TIMEOUT",
    "DEFAULT_IDLE_TIMEOUT",
    "MAX_TIMEOUT",
]

#: Largest request body accepted when ``max_body_bytes`` is not given (64 MiB + 64 KiB: any payload up to 16 MiB in compact JSON).
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
