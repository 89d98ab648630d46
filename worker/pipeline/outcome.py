"""How a path ends: the import completed, it failed with its errors, or the path refused."""

from __future__ import annotations

from dataclasses import dataclass, field

from api.import_types.row_error import ImportWarning, RowError
from api.imports.error_groups import ErrorGroup
from api.imports.lifecycle import Counts, ReadAs


@dataclass(frozen=True, slots=True)
class Completed:
    """Applied (or, for validate_only, checked) with these counts; ``errors`` are the kept
    errors of the rows skipped with on_error=skip, of ``error_rows`` in all; ``error_groups``
    counts every one of them by code and column."""

    counts: Counts
    errors: list[RowError] = field(default_factory=list)
    error_rows: int = 0
    warnings: list[ImportWarning] = field(default_factory=list)
    read_as: ReadAs | None = None
    error_groups: list[ErrorGroup] = field(default_factory=list)

    @property
    def error_count(self) -> int:
        return sum(g.count for g in self.error_groups)


@dataclass(frozen=True, slots=True)
class Failed:
    """Nothing applied: the kept errors, of ``error_rows`` rows with errors in all; every error
    counted by code and column in ``error_groups``. ``counts`` is None (and ``error_rows`` 0)
    when the file itself failed (its encoding, its header) before rows could be read."""

    counts: Counts | None
    errors: list[RowError]
    error_rows: int
    warnings: list[ImportWarning] = field(default_factory=list)
    read_as: ReadAs | None = None
    error_groups: list[ErrorGroup] = field(default_factory=list)
    # The summary's first words when the failure is not the file's (a stale plan).
    lead: str | None = None

    @property
    def error_count(self) -> int:
        return sum(g.count for g in self.error_groups)


Outcome = Completed | Failed


class Refused(Exception):
    """A fast path cannot promise the checked path's result for this file. What it wrote is void:
    the caller rolls it back, and the checked path reports the file in full."""
