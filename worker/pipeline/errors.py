"""Collecting row errors: the first ones in full, and exact counts of the errors (by code and
column) and of the rows they are on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from api.import_types.row_error import RowError
from api.import_types.row_validator import RowValidator
from api.imports.error_groups import ErrorTally


@dataclass
class ErrorCollector:
    keep: int
    kept: list[RowError] = field(default_factory=list)
    bad_rows: int = 0
    tally: ErrorTally = field(default_factory=ErrorTally)

    def clear(self) -> None:
        self.kept.clear()
        self.bad_rows = 0
        self.tally.clear()

    def add_row(self, errors: list[RowError]) -> None:
        """All the errors of one row (rows arrive in line order)."""
        self.bad_rows += 1
        self.tally.add(errors)
        room = self.keep - len(self.kept)
        if room > 0:
            self.kept.extend(errors[:room])

    def add_invalid(self, line: int, cells: Sequence[str], validator: RowValidator) -> None:
        """A row the validator's check refused, given as its cells in column order: its errors
        in full while there is room for them, and only counted after that."""
        if len(self.kept) < self.keep:
            errors = validator(line, cells)[1]
            assert errors is not None
            self.add_row(errors)
        else:
            self.bad_rows += 1
            self.tally.add_line(line, validator.error_kinds(cells))


def summarize(
    error_rows: int, first: RowError, *, file_level: bool, lead: str | None = None
) -> str:
    """The one-line summary of docs/format.md: the count (or ``lead``) and the first error."""
    if lead is None:
        if file_level:
            lead = "The file cannot be imported."
        elif error_rows == 1:
            lead = "1 row has errors."
        else:
            lead = f"{error_rows:,} rows have errors."
    where = ""
    if first.line is not None:
        where = f"Line {first.line}"
        where += f", {first.column}: " if first.column else ": "
    elif first.column:
        where = f"{first.column}: "
    return f"{lead} {where}{first.message}"
