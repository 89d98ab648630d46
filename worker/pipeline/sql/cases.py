"""The statements of ``cases.add`` and ``cases.modify``.

Everything that compares rows with each other or with stored cases is SQL over the staged rows,
so memory stays flat however large the file. The comparison keys are those of ``cases``' unique
constraints (``api/cases/keys.py``), so the checks and the constraints never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.cases.keys import about_key, tag_key
from api.import_types import cells
from api.import_types.row_validator import Values
from worker.pipeline.sql.spec import (
    BatchedApply,
    DirectCopy,
    Outcome,
    Record,
    Staging,
    TypeStatements,
)
from worker.pipeline.sql.statement import APP, APP_AND_IMPORT, Param, Scope, Statement
from worker.pipeline.tables import BATCH, DRY, GOOD_ROW, KEPT, STAGE, STAGE_ERRORS


def _staged(row: Values) -> Record:
    # The keys, and their hashes for finding repeats (Python's str hash: stable within the
    # worker process, which reads and checks the whole file).
    tag, status, opened, about = row
    tag_k = tag_key(tag)
    if about is None:
        return (tag, status, opened, None, tag_k, None, hash(tag_k), None)
    about_k = about_key(about)
    return (tag, status, opened, about, tag_k, about_k, hash(tag_k), hash(about_k))


def _staged_key(cells_in_order: Sequence[str]) -> Record | None:
    # A readable tag_id is enough to say "already exists", "not found" or "repeated".
    tag = cells_in_order[0].strip()
    if not cells.TAG_ID_RE.fullmatch(tag):
        return None
    tag_k = tag_key(tag)
    return (tag, None, None, None, tag_k, None, hash(tag_k), None)


STAGING = Staging(
    columns=(
        ("tag_id", "text NOT NULL"),
        ("case_status", "smallint"),
        ("date_opened", "date"),
        ("about", "text"),
        ("tag_key", "text NOT NULL"),
        ("about_key", "text"),
        ("tag_hash", "bigint NOT NULL"),
        ("about_hash", "bigint"),
    ),
    record=_staged,
    partial=_staged_key,
)


def _errors(select: str, params: tuple[Param, ...] = APP) -> Statement:
    """A check: the rows ``select`` finds become errors."""
    return Statement(
        f"INSERT INTO {STAGE_ERRORS} (line, col_order, col, value, code, message) {select}", params
    )


def _repeats(key: str, hash_: str) -> str:
    """Staged rows whose ``key`` an earlier row has, with that earlier row's line.

    Only rows whose 64-bit hash repeats are compared by key: grouping the hashes is much
    cheaper than sorting every text key.
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


REPEATED_TAG = _errors(
    f"""
    SELECT line, 0, 'tag_id', tag_id, 'duplicate_in_file',
           format('tag_id "%s" repeats line %s; a case may appear only once in a file.',
                  tag_id, first_line)
    FROM ({_repeats("tag_key", "tag_hash")}) AS d
""",
    params=(),
)

_CASE_COLUMNS = (
    "app_id",
    "tag_id",
    "tag_key",
    "case_status",
    "date_opened",
    "about",
    "about_key",
    "created_by_import",
    "updated_by_import",
)


def _copy_into_cases(scope: Scope) -> DirectCopy:
    # The unique constraints of cases on tag_key and about_key are the add's checks: a repeated
    # or existing tag, or a taken description, fails the copy.
    app_id, import_id = scope.app_id, scope.import_id

    def record(line: int, row: Values) -> Record:
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

    return DirectCopy(table="cases", columns=_CASE_COLUMNS, record=record)


def _keys(line: int, row: Values) -> Record:
    tag, _, _, about = row
    return (tag_key(tag), about_key(about))


# The add's refusals without writing a case: the unique indexes refuse repeats within the file;
# stored cases are looked up once the file is in (not at all for an app with none yet).
_CHECK_KEYS = DirectCopy(
    table=DRY,
    columns=("tag_key", "about_key"),
    record=_keys,
    create=(
        f"CREATE TEMPORARY TABLE {DRY} (tag_key text NOT NULL, about_key text NOT NULL)"
        " ON COMMIT DROP",
        f"CREATE UNIQUE INDEX ON {DRY} (tag_key)",
        f"CREATE UNIQUE INDEX ON {DRY} (about_key)",
    ),
    refused=Statement(
        f"""
        SELECT EXISTS (SELECT 1 FROM cases WHERE app_id = $1)
           AND (EXISTS (SELECT 1 FROM {DRY} d JOIN cases c
                        ON c.app_id = $1 AND c.tag_key = d.tag_key)
                OR EXISTS (SELECT 1 FROM {DRY} d JOIN cases c
                           ON c.app_id = $1 AND c.about_key = d.about_key))
        """,
        APP,
    ),
)


ADD = TypeStatements(
    stored_table="cases",
    staging=STAGING,
    checks=(
        REPEATED_TAG,
        _errors(
            f"""
            SELECT line, 3, 'about', about, 'duplicate_in_file',
                   format('about repeats the description on line %s; '
                          'each case needs its own description.', first_line)
            FROM ({_repeats("about_key", "about_hash")}) AS d
        """,
            params=(),
        ),
        _errors(f"""
            SELECT s.line, 0, 'tag_id', s.tag_id, 'already_exists',
                   format('tag_id "%s" is already a case of this app (as "%s"); '
                          'use a Modify cases import to change it.', s.tag_id, c.tag_id)
            FROM {STAGE} s JOIN cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
        """),
        _errors(f"""
            SELECT s.line, 3, 'about', s.about, 'about_taken',
                   format('about already describes case "%s"; descriptions must be unique.',
                          c.tag_id)
            FROM {STAGE} s JOIN cases c ON c.app_id = $1 AND c.about_key = s.about_key
        """),
    ),
    apply=Statement(
        f"""
        INSERT INTO cases ({", ".join(_CASE_COLUMNS)})
        SELECT $1, s.tag_id, s.tag_key, s.case_status, s.date_opened, s.about,
               s.about_key, $2, $2
        FROM {STAGE} s WHERE {GOOD_ROW}
        ORDER BY s.line
        """,
        APP_AND_IMPORT,
    ),
    outcome=lambda changed, good: Outcome(created=changed),
    direct_copy=_copy_into_cases,
    dry_copy=_CHECK_KEYS,
)


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
    WHERE s.about IS NOT NULL AND {GOOD_ROW}
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


# A new description that another case keeps after the file is applied: the state after the
# whole file counts, so two cases may swap descriptions.
_ABOUT_KEPT_BY_ANOTHER = _errors(f"""
    WITH ch AS ({_ABOUT_CHANGES})
    SELECT ch.line, 3, 'about', ch.about, 'about_taken',
           format('about already describes case "%s"; descriptions must be unique.',
                  o.tag_id)
    FROM ch JOIN cases o ON o.app_id = $1 AND o.about_key = ch.about_key
                        AND o.id <> ch.case_id
    WHERE NOT EXISTS (SELECT 1 FROM ch AS moved WHERE moved.case_id = o.id)
""")

# Each batch changes its cases in one UPDATE, found by key. A repeated tag needs no table of
# every tag seen: a case this import changed carries its id, so the UPDATE passes it by and the
# batch comes up short. Only a batch with unchanged rows (or a problem) is looked at again, row
# by row: its unchanged cases carry no mark, so they are kept for the check at the end. A
# description taken twice is refused by the deferred unique constraint.
_MODIFY_IN_BATCHES = BatchedApply(
    apply=Statement(
        f"""
        UPDATE cases c SET {_set_from("s")}
        FROM {BATCH} s
        WHERE c.app_id = $1 AND c.tag_key = s.tag_key AND ({_CHANGES})
          AND c.updated_by_import IS DISTINCT FROM $2
        """,
        APP_AND_IMPORT,
    ),
    account=Statement(
        f"""
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
        """,
        APP_AND_IMPORT,
    ),
    refused=Statement(
        f"""
        SELECT EXISTS (SELECT FROM {KEPT} GROUP BY case_id HAVING count(*) > 1)
            OR EXISTS (SELECT FROM {KEPT} k JOIN cases c ON c.id = k.case_id
                       WHERE c.app_id = $1 AND c.updated_by_import = $2)
        """,
        APP_AND_IMPORT,
    ),
    kept_columns="case_id bigint NOT NULL",
)


def _modified(changed: int, good: int) -> Outcome:
    return Outcome(updated=changed, unchanged=good - changed)


MODIFY = TypeStatements(
    stored_table="cases",
    staging=STAGING,
    checks=(
        REPEATED_TAG,
        _errors(f"""
            SELECT s.line, 0, 'tag_id', s.tag_id, 'not_found',
                   format('tag_id "%s" is not a case of this app; '
                          'use an Add cases import to create it.', s.tag_id)
            FROM {STAGE} s
            WHERE NOT EXISTS (SELECT 1 FROM cases c
                              WHERE c.app_id = $1 AND c.tag_key = s.tag_key)
        """),
        # Two rows giving two cases the same new description: the later one is refused.
        _errors(f"""
            SELECT line, 3, 'about', about, 'about_taken',
                   format('about is also given to another case on line %s; '
                          'descriptions must be unique.', first_line)
            FROM (SELECT line, about, min(line) OVER (PARTITION BY about_key) AS first_line
                  FROM ({_ABOUT_CHANGES}) AS ch) AS d
            WHERE line <> first_line
        """),
        _ABOUT_KEPT_BY_ANOTHER,
    ),
    recheck=_ABOUT_KEPT_BY_ANOTHER,
    apply=Statement(
        f"""
        UPDATE cases c SET {_set_from("s")}
        FROM {STAGE} s
        WHERE c.app_id = $1 AND c.tag_key = s.tag_key AND {GOOD_ROW} AND ({_CHANGES})
        """,
        APP_AND_IMPORT,
    ),
    would_change=Statement(
        f"""
        SELECT count(*) FROM {STAGE} s JOIN cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
        WHERE {GOOD_ROW} AND ({_CHANGES})
        """,
        APP,
    ),
    outcome=_modified,
    batched=_MODIFY_IN_BATCHES,
)
