"""Opaque cursors for keyset paging: the client hands back what the last page ended on."""

from __future__ import annotations

import base64
import json
from typing import Any

from api.errors import Unprocessable


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != length:
        raise Unprocessable(
            "The cursor is not valid; start again from the first page.", code="invalid_cursor"
        )
    return values
