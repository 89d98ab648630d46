"""Collecting row errors: the first ones in full, and exact counts of the errors (by code and
column) and of the rows they are on."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.import_types.row_error import RowError
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


def summarize(error_rows: int, first: RowError, *, file_level: bool) -> str:
    """The one-line summary of docs/format.md: the count and the first error."""
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
