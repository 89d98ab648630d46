"""Keyset pages: the extra row fetched tells whether a next page exists, and where it starts."""

from __future__ import annotations

import pytest

from api.errors import Unprocessable
from api.paging import decode_cursor, encode_cursor, page_of


def test_a_page_with_more_after_it_ends_on_a_cursor_of_its_last_item() -> None:
    page = page_of(["a", "b", "c"], 2, lambda last: [last, 7])
    assert page.items == ["a", "b"]
    assert page.next_cursor is not None
    assert decode_cursor(page.next_cursor, lambda key, n: (key, n)) == ("b", 7)


@pytest.mark.parametrize("rows", [[], ["a"], ["a", "b"]])
def test_the_last_page_has_no_cursor(rows: list[str]) -> None:
    page = page_of(rows, 2, lambda last: [last])
    assert (page.items, page.next_cursor) == (rows, None)


@pytest.mark.parametrize(
    "cursor", ["not base64!", encode_cursor(["only one"]), "e30", encode_cursor(["x", "y"])]
)
def test_a_cursor_of_another_shape_is_refused(cursor: str) -> None:
    with pytest.raises(Unprocessable) as refused:
        decode_cursor(cursor, lambda key, n: (key, int(n)))
    assert refused.value.code == "invalid_cursor"
