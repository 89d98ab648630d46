"""Keyset paging: opaque cursors (the client hands back what the last page ended on), and the
page a list query answers."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Generic, TypeVar, overload

from api.errors import Unprocessable
from api.nul import NUL

T = TypeVar("T")
A = TypeVar("A")
B = TypeVar("B")

# One value of a cursor read back as a value of its column, or ValueError. A cursor is whatever
# the client sends: its values are JSON of any type and size until a key has checked them, so
# that no query is ever run with a value its column cannot take (a server error from the
# database, instead of the 422 a made-up cursor deserves).
Key = Callable[[object], T]


def text_key(value: object) -> str:
    """Text PostgreSQL can hold: a string without NUL or a lone surrogate (JSON's "\\ud800")."""
    if not isinstance(value, str) or NUL in value:
        raise ValueError("not text")
    value.encode()  # a lone surrogate raises UnicodeEncodeError, a ValueError
    return value


def _integer_key(bits: int) -> Key[int]:
    low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1

    def key(value: object) -> int:
        # bool is an int to Python, and a float may be 1e300 or NaN: neither is a row's key.
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise ValueError(f"not an integer of {bits} bits")
        return value

    return key


integer_key = _integer_key(32)  # PostgreSQL's integer
bigint_key = _integer_key(64)  # and bigint


def uuid_key(value: object) -> uuid.UUID:
    if not isinstance(value, str):
        raise ValueError("not a UUID")
    return uuid.UUID(value)


def timestamp_key(value: object) -> datetime:
    """An ISO 8601 time (without an offset: UTC) that stays a date in UTC."""
    if not isinstance(value, str):
        raise ValueError("not a time")
    found = datetime.fromisoformat(value)
    if found.tzinfo is None:
        return found.replace(tzinfo=UTC)
    try:
        # 0001-01-01T00:00+14:00 is a valid ISO time, but a year 0 in UTC, as asyncpg sends it.
        return found.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range") from None


def date_key(value: object) -> date:
    if not isinstance(value, str):
        raise ValueError("not a date")
    return date.fromisoformat(value)


def encode_cursor(values: list[Any]) -> str:
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@overload
def decode_cursor(cursor: str, key: Key[A], /) -> tuple[A]: ...
@overload
def decode_cursor(cursor: str, key: Key[A], second: Key[B], /) -> tuple[A, B]: ...
def decode_cursor(cursor: str, *keys: Key[Any]) -> tuple[Any, ...]:
    """The key a cursor carries, one value per ``keys``, each read back by its key. Whatever a
    client sends, a cursor that does not hold such values is refused (422), never a server
    error."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(values, list) or len(values) != len(keys):
            raise ValueError("a cursor holds one value per key")
        return tuple(key(value) for key, value in zip(keys, values, strict=True))
    # RecursionError: JSON nested a few thousand deep.
    except (ValueError, RecursionError):
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
