"""The two case import types of FORMAT.md: ``cases.add`` and ``cases.modify``.

Cells are checked per row in Python (the row models); everything that compares rows with each
other or with stored cases is SQL over the staging table, so memory stays flat however large
the file. Comparison keys are computed by PostgreSQL with the same expressions as the
``cases`` table's unique constraints, so the checks and the constraints can never disagree.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, PlainValidator, ValidationInfo

from api.cases.keys import about_key, tag_key
from api.import_types import cells
from api.import_types.base import BATCH_TABLE as BATCH
from api.import_types.base import DRY_TABLE as DRY
from api.import_types.base import (
    GOOD_ROW,
    STAGE_KEY_COLUMNS,
    BatchedApply,
    DirectCopy,
    ImportType,
    Outcome,
)
from api.import_types.base import KEPT_TABLE as KEPT
from api.import_types.base import STAGE_ERRORS_TABLE as ERRORS
from api.import_types.base import STAGE_TABLE as STAGE
from api.import_types.row_error import ColumnSpec, RowError
from api.import_types.row_validator import Values


def _date(value: str, info: ValidationInfo) -> date:
    return cells.date_opened(value, cells.latest_date(info))


def _optional_date(value: str, info: ValidationInfo) -> date | None:
    return _date(value, info) if value.strip() else None


def _optional_status(value: str) -> int | None:
    return cells.case_status(value) if value.strip() else None


def _optional_about(value: str) -> str | None:
    return cells.about(value) if value.strip() else None


TagId = Annotated[str, PlainValidator(cells.tag_id)]


class AddCaseRow(BaseModel):
    model_config = ConfigDict(frozen=True)

    tag_id: TagId
    case_status: Annotated[int, PlainValidator(cells.case_status)]
    date_opened: Annotated[date, PlainValidator(_date)]
    about: Annotated[str, PlainValidator(cells.about)]


class ModifyCaseRow(BaseModel):
    """A blank cell, or a column the file leaves out, keeps the stored value."""

    model_config = ConfigDict(frozen=True)

    tag_id: TagId
    case_status: Annotated[int | None, PlainValidator(_optional_status)] = None
    date_opened: Annotated[date | None, PlainValidator(_optional_date)] = None
    about: Annotated[str | None, PlainValidator(_optional_about)] = None


TAG_RULE = "1-64 letters, digits and hyphens; unique in the app, ignoring case"
STATUS_RULE = "0 or closed, 1 or active"
DATE_RULE = "mm/dd/yyyy (or yyyy-mm-dd), from 01/01/1900 to tomorrow"
ABOUT_RULE = "1-500 printable characters; unique in the app, ignoring case and spacing"

TAG_ALIASES = ("case_id", "tagid", "caseid", "tag", "case")
STATUS_ALIASES = ("status",)
DATE_ALIASES = ("opened", "date", "opened_on")
ABOUT_ALIASES = ("description",)


def _columns(*, all_required: bool) -> tuple[ColumnSpec, ...]:
    return (
        ColumnSpec("tag_id", TAG_ALIASES, True, TAG_RULE),
        ColumnSpec("case_status", STATUS_ALIASES, all_required, STATUS_RULE),
        ColumnSpec("date_opened", DATE_ALIASES, all_required, DATE_RULE),
        ColumnSpec("about", ABOUT_ALIASES, all_required, ABOUT_RULE),
    )


_STAGING_COLUMNS = (
    ("tag_id", "text"),
    ("case_status", "smallint"),
    ("date_opened", "date"),
    ("about", "text"),
    ("tag_key", "text"),
    ("about_key", "text"),
    ("tag_hash", "bigint"),
    ("about_hash", "bigint"),
)


def _staging_ddl() -> str:
    return f"""
        CREATE TEMPORARY TABLE {STAGE} (
            {STAGE_KEY_COLUMNS},
            tag_id text NOT NULL,
            case_status smallint,
            date_opened date,
            about text,
            tag_key text NOT NULL,
            about_key text,
            tag_hash bigint NOT NULL,
            about_hash bigint
        )
    """


def _insert_errors(select: str) -> str:
    return f"INSERT INTO {ERRORS} (line, col_order, col, value, code, message) {select}"


def _repeats(key: str, hash_: str) -> str:
    """Staged rows whose ``key`` an earlier row has, with that earlier row's line.

    Sorting a million text keys is the slow part of finding repeats (~1-2 s); grouping their
    64-bit hashes (computed by the worker) is a fraction of that, and only rows whose hash
    repeats are then compared by key.
    """
    return f"""
        SELECT * FROM (
            SELECT s.*, min(s.line) OVER (PARTITION BY s.{key}) AS first_line
            FROM {STAGE} s
            WHERE s.{hash_} IN (SELECT {hash_} FROM {STAGE} WHERE {hash_} IS NOT NULL
                                GROUP BY {hash_} HAVING count(*) > 1)
        ) AS r
        WHERE line <> first_line
    """


# A later row repeating a tag_id of an earlier one; the message names the first line.
DUPLICATE_TAG_SQL = _insert_errors(f"""
    SELECT line, 0, 'tag_id', tag_id, 'duplicate_in_file',
           format('tag_id "%s" repeats line %s; a case may appear only once in a file.',
                  tag_id, first_line)
    FROM ({_repeats("tag_key", "tag_hash")}) AS d
""")

_GOOD = GOOD_ROW


class _CaseImport(ImportType):
    """What both case types stage: every column, with blanks as NULL for modify."""

    staging_columns = _STAGING_COLUMNS
    stored_table = "cases"

    def record(self, row: Values) -> tuple[Any, ...]:
        # Keys, and their hashes for finding repeats (Python's str hash: stable within the
        # worker process, which reads and checks the whole file).
        tag, status, opened, about = row
        tag_k = tag_key(tag)
        if about is None:
            return (tag, status, opened, None, tag_k, None, hash(tag_k), None)
        about_k = about_key(about)
        return (tag, status, opened, about, tag_k, about_k, hash(tag_k), hash(about_k))

    def partial_record(self, cells_in_order: Sequence[str]) -> tuple[Any, ...] | None:
        # A readable tag_id is enough to say "already exists", "not found" or "repeated".
        tag = cells_in_order[0].strip()
        if not cells.TAG_ID_RE.fullmatch(tag):
            return None
        tag_k = tag_key(tag)
        return (tag, None, None, None, tag_k, None, hash(tag_k), None)

    def create_staging_sql(self) -> str:
        return _staging_ddl()


class AddCases(_CaseImport):
    key: ClassVar[str] = "cases.add"
    label: ClassVar[str] = "Add cases"
    description: ClassVar[str] = "Creates new cases. Every column is required."
    columns: ClassVar[tuple[ColumnSpec, ...]] = _columns(all_required=True)
    row_model: ClassVar[type[BaseModel]] = AddCaseRow
    sample_rows: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("CASE-0001", "1", "03/07/2024", "Water supply complaint on Elm Street"),
        ("CASE-0002", "0", "11/15/2023", "Street light out near the library"),
    )

    def check_sql(self) -> list[str]:
        return [
            DUPLICATE_TAG_SQL,
            _insert_errors(f"""
                SELECT line, 3, 'about', about, 'duplicate_in_file',
                       format('about repeats the description on line %s; '
                              'each case needs its own description.', first_line)
                FROM ({_repeats("about_key", "about_hash")}) AS d
            """),
            _insert_errors(f"""
                SELECT s.line, 0, 'tag_id', s.tag_id, 'already_exists',
                       format('tag_id "%s" is already a case of this app (as "%s"); '
                              'use a Modify cases import to change it.', s.tag_id, c.tag_id)
                FROM {STAGE} s JOIN cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
            """),
            _insert_errors(f"""
                SELECT s.line, 3, 'about', s.about, 'about_taken',
                       format('about already describes case "%s"; descriptions must be unique.',
                              c.tag_id)
                FROM {STAGE} s JOIN cases c ON c.app_id = $1 AND c.about_key = s.about_key
            """),
        ]

    def direct_copy(self, app_id: uuid.UUID, import_id: uuid.UUID) -> DirectCopy:
        # The cases table's unique constraints on tag_key and about_key are the checks above:
        # a repeated or existing tag, or a taken description, fails the copy.
        def record(line: int, row: Values) -> tuple[Any, ...]:
            tag, status, opened, about = row
            return (
                app_id,
                tag,
                tag_key(tag),
                status,
                opened,
                about,
                about_key(about),
                import_id,
                import_id,
            )

        return DirectCopy(
            table="cases",
            columns=(
                "app_id",
                "tag_id",
                "tag_key",
                "case_status",
                "date_opened",
                "about",
                "about_key",
                "created_by_import",
                "updated_by_import",
            ),
            record=record,
        )

    def dry_copy(self) -> DirectCopy:
        # The same refusals as the checks above, without writing a case: the unique indexes
        # refuse repeats within the file; stored cases are looked up once the file is in (not
        # at all for an app with none yet).
        def record(line: int, row: Values) -> tuple[Any, ...]:
            tag, _, _, about = row
            return (tag_key(tag), about_key(about))

        return DirectCopy(
            table=DRY,
            columns=("tag_key", "about_key"),
            record=record,
            create_sql=f"""
                CREATE TEMPORARY TABLE {DRY} (tag_key text NOT NULL, about_key text NOT NULL)
                ON COMMIT DROP;
                CREATE UNIQUE INDEX ON {DRY} (tag_key);
                CREATE UNIQUE INDEX ON {DRY} (about_key);
            """,
            refused_sql=f"""
                SELECT EXISTS (SELECT 1 FROM cases WHERE app_id = $1)
                   AND (EXISTS (SELECT 1 FROM {DRY} d JOIN cases c
                                ON c.app_id = $1 AND c.tag_key = d.tag_key)
                        OR EXISTS (SELECT 1 FROM {DRY} d JOIN cases c
                                   ON c.app_id = $1 AND c.about_key = d.about_key))
            """,
        )

    def apply_sql(self) -> str:
        return f"""
            INSERT INTO cases (app_id, tag_id, tag_key, case_status, date_opened, about,
                               about_key, created_by_import, updated_by_import)
            SELECT $1, s.tag_id, s.tag_key, s.case_status, s.date_opened, s.about,
                   s.about_key, $2, $2
            FROM {STAGE} s WHERE {_GOOD}
            ORDER BY s.line
        """

    def outcome(self, changed: int, good_rows: int) -> Outcome:
        return Outcome(created=changed)


# The rows of a modify that would change their case: a blank cell (NULL) keeps the value.
_CHANGES = """
    (s.case_status IS NOT NULL AND s.case_status <> c.case_status)
    OR (s.date_opened IS NOT NULL AND s.date_opened <> c.date_opened)
    OR (s.about IS NOT NULL AND s.about <> c.about)
"""

# Good rows that set a description, with the case they change.
_ABOUT_CHANGES = f"""
    SELECT s.line, s.about, s.about_key, c.id AS case_id
    FROM {STAGE} s JOIN cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
    WHERE s.about IS NOT NULL AND {_GOOD}
"""


def _set_from(rows: str) -> str:
    """The SET list of a modify: the row's given values, the case's own where a cell is empty."""
    return f"""
        case_status = coalesce({rows}.case_status, c.case_status),
        date_opened = coalesce({rows}.date_opened, c.date_opened),
        about = coalesce({rows}.about, c.about),
        about_key = coalesce({rows}.about_key, c.about_key),
        updated_at = now(),
        updated_by_import = $2
    """


class ModifyCases(_CaseImport):
    key: ClassVar[str] = "cases.modify"
    label: ClassVar[str] = "Modify cases"
    description: ClassVar[str] = (
        "Updates existing cases found by tag_id. A blank cell keeps the stored value."
    )
    columns: ClassVar[tuple[ColumnSpec, ...]] = _columns(all_required=False)
    row_model: ClassVar[type[BaseModel]] = ModifyCaseRow
    # The sample changes the two cases the add sample creates.
    sample_rows: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("CASE-0001", "0", "", "Water supply complaint on Elm Street, resolved"),
        ("CASE-0002", "active", "11/16/2023", ""),
    )

    def header_errors(self, present: Collection[str], line: int) -> list[RowError]:
        if set(present) - {"tag_id"}:
            return []
        return [
            RowError(
                line=line,
                column=None,
                value=None,
                code="missing_column",
                message="A modify file needs tag_id and at least one of case_status, "
                "date_opened or about.",
            )
        ]

    def check_sql(self) -> list[str]:
        return [
            DUPLICATE_TAG_SQL,
            _insert_errors(f"""
                SELECT s.line, 0, 'tag_id', s.tag_id, 'not_found',
                       format('tag_id "%s" is not a case of this app; '
                              'use an Add cases import to create it.', s.tag_id)
                FROM {STAGE} s
                WHERE NOT EXISTS (SELECT 1 FROM cases c
                                  WHERE c.app_id = $1 AND c.tag_key = s.tag_key)
            """),
            # Two rows giving two cases the same new description: the later one is refused.
            _insert_errors(f"""
                SELECT line, 3, 'about', about, 'about_taken',
                       format('about is also given to another case on line %s; '
                              'descriptions must be unique.', first_line)
                FROM (SELECT line, about, min(line) OVER (PARTITION BY about_key) AS first_line
                      FROM ({_ABOUT_CHANGES}) AS ch) AS d
                WHERE line <> first_line
            """),
            self.fixed_point_check_sql(),
        ]

    def fixed_point_check_sql(self) -> str:
        # A new description that a case keeps after the file is applied: the state after the
        # whole file counts, so two cases may swap descriptions.
        return _insert_errors(f"""
            WITH ch AS ({_ABOUT_CHANGES})
            SELECT ch.line, 3, 'about', ch.about, 'about_taken',
                   format('about already describes case "%s"; descriptions must be unique.',
                          o.tag_id)
            FROM ch JOIN cases o ON o.app_id = $1 AND o.about_key = ch.about_key
                                AND o.id <> ch.case_id
            WHERE NOT EXISTS (SELECT 1 FROM ch AS moved WHERE moved.case_id = o.id)
        """)

    def apply_sql(self) -> str:
        return f"""
            UPDATE cases c SET {_set_from("s")}
            FROM {STAGE} s
            WHERE c.app_id = $1 AND c.tag_key = s.tag_key AND {_GOOD} AND ({_CHANGES})
        """

    def batched_apply(self) -> BatchedApply:
        # Each batch changes its cases in one UPDATE, found by key (index probes: a batch is
        # small next to an app's cases); a description taken twice is refused by the deferred
        # unique constraint. A repeated tag needs no table of every tag seen: a case this import
        # changed carries its id, so the UPDATE passes it by and the batch comes up short. Only
        # a batch with unchanged rows (or a problem) is looked at again, row by row: its
        # unchanged cases carry no mark, so they are kept for the check at the end (usually
        # few; a file applied twice keeps them all, which costs what keeping every tag would).
        apply_sql = f"""
            UPDATE cases c SET {_set_from("s")}
            FROM {BATCH} s
            WHERE c.app_id = $1 AND c.tag_key = s.tag_key AND ({_CHANGES})
              AND c.updated_by_import IS DISTINCT FROM $2
        """
        account_sql = f"""
            WITH m AS (
                SELECT c.id AS case_id, c.updated_by_import IS NOT DISTINCT FROM $2 AS marked
                FROM {BATCH} s LEFT JOIN cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
            ), k AS (
                INSERT INTO {KEPT} (case_id)
                SELECT case_id FROM m WHERE case_id IS NOT NULL AND NOT marked
            )
            SELECT count(*) FILTER (WHERE case_id IS NULL) AS missing,
                   count(*) FILTER (WHERE marked) AS marked
            FROM m
        """
        refused_sql = f"""
            SELECT EXISTS (SELECT FROM {KEPT} GROUP BY case_id HAVING count(*) > 1)
                OR EXISTS (SELECT FROM {KEPT} k JOIN cases c ON c.id = k.case_id
                           WHERE c.app_id = $1 AND c.updated_by_import = $2)
        """
        return BatchedApply(
            apply_sql=apply_sql,
            account_sql=account_sql,
            refused_sql=refused_sql,
            kept_columns="case_id bigint NOT NULL",
        )

    def dry_run_sql(self) -> str | None:
        return f"""
            SELECT count(*) FROM {STAGE} s JOIN cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
            WHERE {_GOOD} AND ({_CHANGES})
        """

    def outcome(self, changed: int, good_rows: int) -> Outcome:
        return Outcome(updated=changed, unchanged=good_rows - changed)
