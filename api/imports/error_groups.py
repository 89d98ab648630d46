"""An import's errors counted by code and column, each group with its first error: what the
``errors/summary`` route shows, over every error, not only the ones kept in full."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from api.import_types.row_error import ErrorKind, RowError


@dataclass(frozen=True, slots=True)
class ErrorGroup:
    code: str
    column: str | None
    count: int
    # The first error of the group in line order (None: a file-level error with no line).
    first_line: int | None
    message: str


def _order(group: ErrorGroup) -> tuple[int, int, str, str]:
    return (-group.count, _line_order(group.first_line), group.code, group.column or "")


def _line_order(line: int | None) -> int:
    """A file-level error (no line) comes before any row's."""
    return -1 if line is None else line


class ErrorTally:
    """Counts errors by code and column, keeping the first of each group."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str | None], int] = {}
        self._firsts: dict[tuple[str, str | None], tuple[int | None, str]] = {}
        self.total = 0

    def add(self, errors: Iterable[RowError]) -> None:
        """Errors in line order: a group's first one is the first added."""
        for e in errors:
            self.add_line(e.line, [((e.code, e.column), e.message)])

    def add_line(self, line: int | None, errors: Iterable[ErrorKind]) -> None:
        """The errors of one line, after those of earlier lines."""
        counts, firsts = self._counts, self._firsts
        added = 0
        for key, message in errors:
            seen = counts.get(key)
            if seen is None:
                counts[key] = 1
                firsts[key] = (line, message)
            else:
                counts[key] = seen + 1
            added += 1
        self.total += added

    def merge(self, group: ErrorGroup) -> None:
        """A group counted elsewhere (by SQL): counts add up, the earlier first error stays."""
        key = (group.code, group.column)
        self._counts[key] = self._counts.get(key, 0) + group.count
        first = self._firsts.get(key)
        if first is None or _line_order(group.first_line) < _line_order(first[0]):
            self._firsts[key] = (group.first_line, group.message)
        self.total += group.count

    def clear(self) -> None:
        self._counts.clear()
        self._firsts.clear()
        self.total = 0

    def groups(self) -> list[ErrorGroup]:
        """Most frequent first; then by first line."""
        made = [
            ErrorGroup(code, column, count, *self._firsts[(code, column)])
            for (code, column), count in self._counts.items()
        ]
        return sorted(made, key=_order)


def grouped(errors: Iterable[RowError]) -> list[ErrorGroup]:
    """These errors (in line order), grouped."""
    tally = ErrorTally()
    tally.add(errors)
    return tally.groups()
