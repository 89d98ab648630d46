"""Keyset pages: the extra row fetched tells whether a next page exists, and where it starts."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, date, datetime

import pytest

from api.errors import Unprocessable
from api.paging import (
    bigint_key,
    date_key,
    decode_cursor,
    encode_cursor,
    integer_key,
    page_of,
    text_key,
    timestamp_key,
    uuid_key,
)


def test_a_page_with_more_after_it_ends_on_a_cursor_of_its_last_item() -> None:
    page = page_of(["a", "b", "c"], 2, lambda last: [last, 7])
    assert page.items == ["a", "b"]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, text_key, bigint_key) == ("b", 7)


@pytest.mark.parametrize("rows", [[], ["a"], ["a", "b"]])
def test_the_last_page_has_no_cursor(rows: list[str]) -> None:
    page = page_of(rows, 2, lambda last: [last])
    assert (page.items, page.next_cursor) == (rows, None)


def test_every_key_reads_back_what_the_lists_write() -> None:
    at = datetime(2026, 12, 2, 5, 22, 32, 513614, tzinfo=UTC)
    some = uuid.uuid4()
    # As the lists write them: str() of a time, its isoformat(), a UUID, a date, integers, text.
    written: list[object] = [str(at), at.isoformat(), str(some), "2024-03-07", 2**40, 7, "T-1"]
    keys = (timestamp_key, timestamp_key, uuid_key, date_key, bigint_key, integer_key, text_key)
    values = [key(value) for key, value in zip(keys, written, strict=True)]
    assert values == [at, at, some, date(2024, 3, 7), 2**40, 7, "T-1"]
    # A time without an offset is UTC.
    assert timestamp_key("2026-12-02T05:22:32") == datetime(2026, 12, 2, 5, 22, 32, tzinfo=UTC)


def raw_cursor(json_text: str) -> str:
    """A cursor holding this JSON text, which ``encode_cursor`` could not write."""
    return base64.urlsafe_b64encode(json_text.encode()).decode().rstrip("=")


ZERO = str(uuid.UUID(int=0))


# Each of these but the first four reached a query, or broke in reading, and answered 500 (issue
# 12): a value of the wrong type, a number no column holds, text PostgreSQL cannot store, a time
# that leaves the calendar in UTC, JSON nested too deep to read.
@pytest.mark.parametrize(
    ("cursor", "keys"),
    [
        ("not base64!", (text_key, bigint_key)),
        (encode_cursor(["only one"]), (text_key, bigint_key)),
        ("e30", (text_key, bigint_key)),
        (encode_cursor(["x", "y"]), (text_key, bigint_key)),
        (encode_cursor(["2026-01-01T00:00:00+00:00", 1]), (timestamp_key, uuid_key)),
        (encode_cursor(["0001-01-01T00:00:00+14:00", ZERO]), (timestamp_key, uuid_key)),
        (encode_cursor(["9999-12-31T23:59:59-14:00", ZERO]), (timestamp_key, uuid_key)),
        (encode_cursor(["a\x00b", 1]), (text_key, bigint_key)),
        (encode_cursor(["\ud800", 1]), (text_key, bigint_key)),
        (encode_cursor(["T-1", 2**63]), (text_key, bigint_key)),
        (encode_cursor(["T-1", float("inf")]), (text_key, bigint_key)),
        (encode_cursor(["T-1", float("nan")]), (text_key, bigint_key)),
        (encode_cursor(["T-1", 1.5]), (text_key, bigint_key)),
        (encode_cursor(["T-1", True]), (text_key, bigint_key)),
        (encode_cursor(["T-1", "1"]), (text_key, bigint_key)),
        (encode_cursor([2**31]), (integer_key,)),
        (raw_cursor("[1e400]"), (integer_key,)),
        (encode_cursor(["2024-02-30", 1]), (date_key, bigint_key)),
        (raw_cursor("[" * 20_000 + "]" * 20_000), (integer_key,)),
    ],
)
def test_a_cursor_of_another_shape_is_refused(cursor: str, keys: tuple[object, ...]) -> None:
    with pytest.raises(Unprocessable) as refused:
        decode_cursor(cursor, *keys)  # type: ignore[call-overload]
    assert refused.value.code == "invalid_cursor"
