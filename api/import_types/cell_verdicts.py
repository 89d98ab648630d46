"""The errors of a row found cell by cell, each column's verdict on a text remembered: for rows
whose errors are only counted, where files tend to repeat the same bad value in a column.

Exact only for an import type whose cells are independent (``ImportType.cells_independent``):
a cell's verdict then depends on its own text and the import's fixed context alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from api.import_types.row_error import ErrorKind

CellCheck = Callable[[str], Any]
"""One column's validator: a cell's text in, its value out; ``ValidationError`` if bad."""

Column = tuple[dict[str, tuple[ErrorKind, ...]], str, CellCheck]
"""A column's verdicts by cell text (each the errors of that text), its name and its check."""

# Verdicts remembered per column before that column's are forgotten: repeated bad values are
# few, and a column of unique texts (tags, descriptions) must not grow without bound.
REMEMBERED = 1024


class CellVerdicts:
    """The errors of a row's cells (given in column order), as ``ErrorKind``s."""

    def __init__(self, names: Sequence[str], checks: Sequence[CellCheck]) -> None:
        self._columns: tuple[Column, ...] = tuple(
            ({}, name, check) for name, check in zip(names, checks, strict=True)
        )

    def __call__(self, cells: Sequence[str]) -> list[ErrorKind]:
        found: list[ErrorKind] = []
        for (memo, name, check), text in zip(self._columns, cells, strict=True):
            verdict = memo.get(text)
            if verdict is None:
                verdict = _verdict(name, check, text)
                if len(memo) >= REMEMBERED:
                    memo.clear()
                memo[text] = verdict
            if verdict:
                found.extend(verdict)
        return found


def _verdict(name: str, check: CellCheck, text: str) -> tuple[ErrorKind, ...]:
    """The errors of one cell, in the order validating the whole row reports them."""
    try:
        check(text)
    except ValidationError as exc:
        return tuple(((e["type"], name), e["msg"]) for e in exc.errors(include_url=False))
    return ()
