"""What the worker needs of an import type beyond its domain rules: how its rows are staged,
checked and applied in SQL, and its fast paths, each with the contract it must keep.

One ``TypeStatements`` per import type (``sql/cases.py`` for the case types), registered by key
in ``sql/__init__.py``. Every fast path promises the same thing: when it completes, the result
is exactly what the checked path would give for that file; when it cannot promise that, it
refuses, and the checked path reports the file in full.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from api.import_types.row_validator import Values
from api.imports.lifecycle import Counts
from worker.pipeline.sql.statement import Scope, Statement
from worker.pipeline.tables import KEY_COLUMNS

Record = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Staging:
    """The columns a type stages after ``KEY_COLUMNS`` (name, SQL type), and their values:
    ``record`` for a valid row, ``partial`` for a row whose cells failed (its key only, for the
    checks against other rows and stored data; None when even the key is unreadable)."""

    columns: tuple[tuple[str, str], ...]
    record: Callable[[Values], Record]
    partial: Callable[[Sequence[str]], Record | None]

    @property
    def unkeyed(self) -> Record:
        """The values of a failed row staged for its line alone."""
        return (None,) * len(self.columns)

    @property
    def names(self) -> list[str]:
        return [name for name, _ in (*KEY_COLUMNS, *self.columns)]

    def ddl(self, table: str) -> str:
        columns = ", ".join(f"{name} {kind}" for name, kind in (*KEY_COLUMNS, *self.columns))
        return f"CREATE TEMPORARY TABLE {table} ({columns}) ON COMMIT DROP"


@dataclass(frozen=True, slots=True)
class Outcome:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def counts(self, rows: int, *, failed: int = 0) -> Counts:
        return Counts(rows, self.created, self.updated, self.unchanged, failed)


@dataclass(frozen=True, slots=True)
class DirectCopy:
    """A clean file's rows copied straight into ``table``.

    ``record(line, row)`` gives a valid row's values for ``columns``; ``create`` makes the table
    first, when it is one of the job's own. The contract: the table's constraints, and then
    ``refused`` (true when a row clashes with stored data), refuse every file the checks of the
    checked path would report.
    """

    table: str
    columns: tuple[str, ...]
    record: Callable[[int, Values], Record]
    create: Sequence[str] = ()
    refused: Statement | None = None


@dataclass(frozen=True, slots=True)
class BatchedApply:
    """A clean file that changes stored rows, applied batch by batch while the next is parsed.

    Each batch is copied into ``BATCH`` and ``apply`` changes the stored rows it names that this
    import has not changed yet; its command tag counts them. A batch that changed as many rows
    as it holds is clean. Otherwise ``account`` answers ``missing`` (the batch's rows that found
    nothing to change) and ``marked`` (its rows whose stored row this import has now changed),
    and keeps the rows it left as they were in ``KEPT`` (made from ``kept_columns``); the batch
    is clean when none is missing and ``marked`` equals the count changed. Once every batch is
    in, ``refused`` answers true when the kept rows show a problem (a row repeated in a later
    batch); it may refuse more than it must, never less. The table's constraints, checked at
    the end, refuse the rest.
    ``apply`` also records the changes it makes, with their before-images, in the same
    statement; ``account`` records the rows it finds unchanged.
    """

    apply: Statement
    account: Statement
    refused: Statement
    kept_columns: str


@dataclass(frozen=True, slots=True)
class TypeStatements:
    """The checked path (every file can go there) and the fast paths of one import type.

    ``checks`` run in order after staging, each adding rows to ``STAGE_ERRORS``; ``recheck``,
    when bad rows are skipped, is run again while it finds new errors (a skipped row can make
    another invalid). ``record`` (before ``apply``) and ``plan`` (for ``validate_only``, creates
    included) write what each good row does to ``import_changes`` and answer the counts of what
    they wrote (``created``, ``updated``, ``unchanged``); ``record_failed`` writes a row per
    failed line; ``apply`` applies the good rows.
    ``outcome(changed, good)`` turns a fast path's counts into the result. ``stored_table``
    holds the app's stored rows that the statements look up.
    """

    stored_table: str
    staging: Staging
    checks: tuple[Statement, ...]
    apply: Statement
    record: Statement
    plan: Statement
    record_failed: Statement
    outcome: Callable[[int, int], Outcome]
    recheck: Statement | None = None
    direct_copy: Callable[[Scope], DirectCopy] | None = None
    dry_copy: Callable[[Scope], DirectCopy] | None = None
    batched: BatchedApply | None = None
