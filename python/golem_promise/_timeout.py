"""The check every waiting call makes of its ``timeout`` argument."""

from __future__ import annotations

from typing import Optional

__all__ = ["check_timeout"]


def check_timeout(timeout: Optional[float]) -> None:
    """Accepts None or a non-negative int or float of seconds.

    TypeError for anything else, bools included (``True`` is not one second); ValueError for a
    negative number or NaN.
    """
    if timeout is None:
        return
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, not {type(timeout).__name__}")
    if not timeout >= 0:
        raise ValueError("timeout must be a non-negative number of seconds, or None")
