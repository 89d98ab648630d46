"""Keyset paging: opaque cursors (the client hands back what the last page ended on), and the
page a list query answers."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from api.errors import Unprocessable

T = TypeVar("T")


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, parse: Callable[..., T]) -> T:
    """The key a cursor carries, read back by ``parse`` from the cursor's values. Whatever a
    client sends, a cursor that does not parse is refused (422), never a server error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list):
            raise TypeError("a cursor holds a list")
        return parse(*values)
    except (ValueError, TypeError, UnicodeDecodeError):
        raise Unprocessable(
            "The cursor is not valid; start again from the first page.", code="invalid_cursor"
        ) from None


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None  # None on the last page


def page_of(rows: Sequence[T], limit: int, cursor_of: Callable[[T], list[Any]]) -> Page[T]:
    """The page of ``rows`` fetched with ``limit + 1``: the extra row only tells that more follow,
    and the next page starts after the key ``cursor_of`` gives for this page's last item."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, encode_cursor(cursor_of(items[-1])) if more else None)
