"""JSON payloads, as in the Golem Rust SDK's await_promise_json / complete_promise_json."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["encode", "decode"]


def encode(value: Any) -> bytes:
    """Compact UTF-8 JSON for ``value`` (the bytes serde_json would write)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def decode(payload: bytes) -> Any:
    """Decodes a UTF-8 JSON payload; raises ``json.JSONDecodeError`` / ``UnicodeDecodeError``."""
    return json.loads(payload.decode("utf-8"))
