"""What an import type is: its columns, its row model, and how its staged rows are checked and
applied. The upload, the queue and the job know only this interface, so a new type (say
``cases.upsert``) is one new module registered in ``registry.py``.
"""

from __future__ import annotations

import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

from pydantic import BaseModel

from api.import_types.row_error import ColumnSpec, RowError
from api.import_types.row_validator import RowValidator, Values

# Temporary tables live in the job's own connection and vanish with it.
STAGE_TABLE = "import_stage"
STAGE_ERRORS_TABLE = "import_stage_errors"
# One batch of rows on the batched fast path (same columns as STAGE_TABLE).
BATCH_TABLE = "import_batch"
# What the batched fast path keeps of every batch for the checks no batch can make alone.
KEPT_TABLE = "import_kept"
# validate_only's fast path: the keys of a file expected to be clean (see ``dry_copy``).
DRY_TABLE = "import_dry"
# Every staging table starts with these: the record's line, and whether all its cells passed
# the row model. Rows with bad cells are staged too (when their key is readable), so the
# checks against other rows and stored data report every problem of a file in one round;
# they are never applied.
STAGE_KEY_COLUMNS = "line bigint NOT NULL, cells_ok boolean NOT NULL"
GOOD_ROW = f"s.cells_ok AND NOT EXISTS (SELECT 1 FROM {STAGE_ERRORS_TABLE} e WHERE e.line = s.line)"


@dataclass(frozen=True, slots=True)
class DirectCopy:
    """Where and how a clean file's rows are copied straight into a table.

    ``record(line, row)`` gives a valid row's values for ``columns``. ``create_sql``, when
    given, makes the table first (a temporary one, dropped at commit). The table's constraints,
    and then ``refused_sql`` (``$1`` app id; true when a row clashes with stored data), must
    refuse every row that ``check_sql`` would report, so that a copy which succeeds is exactly a
    file that the checks would have let through.
    """

    table: str
    columns: tuple[str, ...]
    record: Callable[[int, Any], tuple[Any, ...]]
    create_sql: str | None = None
    refused_sql: str | None = None


@dataclass(frozen=True, slots=True)
class BatchedApply:
    """A fast path for a type whose rows change stored ones: each batch of rows is copied into
    ``BATCH_TABLE`` and applied by one statement while the next batch is parsed, all in one
    transaction that is undone if anything turns out wrong (the file then goes the checked way).

    All statements take ``$1`` app id, ``$2`` import id. ``apply_sql`` applies the batch's rows
    that change a stored row this import has not changed yet; its command tag counts the rows it
    changed. A batch that changed as many as it has rows is clean. Otherwise ``account_sql``
    answers one row: ``missing``, the batch's rows that found nothing to apply to, and
    ``marked``, its rows whose stored row this import has now changed. The batch is clean when
    none is missing and ``marked`` is the count changed (no stored row was meant by two rows);
    the rows it left as they were are kept in ``KEPT_TABLE`` (made with ``kept_columns``, a
    column list). ``refused_sql``, run once every batch is applied, answers true when the kept
    rows show a problem (a row repeated in a later batch); it may refuse more than it must (the
    checked path then decides), never less. The table's constraints, checked at the end, refuse
    the rest.
    """

    apply_sql: str
    account_sql: str
    refused_sql: str
    kept_columns: str


@dataclass(frozen=True, slots=True)
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


class ImportType(ABC):
    key: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str]
    columns: ClassVar[tuple[ColumnSpec, ...]]
    row_model: ClassVar[type[BaseModel]]
    sample_rows: ClassVar[tuple[tuple[str, ...], ...]]
    # The staged columns after the key columns: (column, SQL type), in ``record()`` order.
    staging_columns: ClassVar[tuple[tuple[str, str], ...]]
    # The table of stored rows (with an ``app_id``) that the type's statements look up by key.
    stored_table: ClassVar[str]

    def header_errors(self, present: Collection[str], line: int) -> list[RowError]:
        """Rules on the set of columns beyond "required ones are present"."""
        return []

    def row_validator(self, today: date) -> RowValidator:
        """Validates rows given as cells in ``columns`` order; ``today`` bounds the dates."""
        return RowValidator(self.row_model, today)

    def validate(
        self, line: int, cells: Mapping[str, str], today: date
    ) -> tuple[Values, None] | tuple[None, list[RowError]]:
        """One row from a mapping of column to cell (a missing column is a blank cell)."""
        return self.row_validator(today)(line, [cells.get(c.name, "") for c in self.columns])

    def record(self, row: Values) -> tuple[Any, ...]:
        """A valid row's values for ``staging_columns``: by default, the row itself."""
        return row

    def partial_record(self, cells: Sequence[str]) -> tuple[Any, ...] | None:
        """Values for ``staging_columns`` from a row whose cells failed, or None to not stage it.

        Only what identifies the row (its key) needs to be there, for cross-row checks.
        """
        return None

    @abstractmethod
    def create_staging_sql(self) -> str:
        """DDL for the temporary staging table ``STAGE_TABLE``, starting with
        ``STAGE_KEY_COLUMNS``."""

    @abstractmethod
    def check_sql(self) -> list[str]:
        """Statements run in order after staging; each adds rows to ``STAGE_ERRORS_TABLE``.

        Parameter ``$1`` is the app id.
        """

    def fixed_point_check_sql(self) -> str | None:
        """A check re-run, when bad rows are skipped, while it finds new errors.

        With on_error=skip, a skipped row can make another row invalid in turn (a case that
        keeps its description because its own row was skipped); this check runs to a fixed
        point.
        """
        return None

    def direct_copy(self, app_id: uuid.UUID, import_id: uuid.UUID) -> DirectCopy | None:
        """The fast path for a file expected to be clean, or None when the type has none."""
        return None

    def dry_copy(self) -> DirectCopy | None:
        """The fast path of ``validate_only`` for a file expected to be clean: a copy into a
        table of its own, which writes nothing that lasts; or None."""
        return None

    def batched_apply(self) -> BatchedApply | None:
        """The batched fast path for a file expected to be clean, or None when the type has none."""
        return None

    @abstractmethod
    def apply_sql(self) -> str:
        """Applies the good rows; ``$1`` app id, ``$2`` import id. Its row count is reported."""

    def dry_run_sql(self) -> str | None:
        """One value: how many rows ``apply_sql`` would change (for ``validate_only``).

        ``None`` means every good row would change.
        """
        return None

    @abstractmethod
    def outcome(self, changed: int, good_rows: int) -> Outcome:
        """The result counts from the rows changed and the number of good rows."""
