"""The statements of ``cases.add``, ``cases.modify`` and ``cases.upsert``.

Everything that compares rows with each other or with stored cases is SQL over the staged rows,
so memory stays flat however large the file. The comparison keys are those of ``cases``' unique
constraints (``api/cases/keys.py``), so the checks and the constraints never disagree. What each
row does is recorded in ``import_changes`` before it is applied, so that the before-images are
the stored values.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.cases.keys import about_key, tag_key
from api.changes.actions import ChangeAction
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
from worker.pipeline.tables import BATCH, GOOD_ROW, KEPT, STAGE, STAGE_ERRORS


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
        # NULL only on a failed row whose tag_id is unreadable: staged for its line alone.
        ("tag_id", "text"),
        ("case_status", "smallint"),
        ("date_opened", "date"),
        ("about", "text"),
        ("tag_key", "text"),
        ("about_key", "text"),
        ("tag_hash", "bigint"),
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
    "created_line",
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
            line,
        )

    return DirectCopy(table="cases", columns=_CASE_COLUMNS, record=record)


_PLANNED_CREATE_COLUMNS = (
    "import_id",
    "line",
    "action",
    "tag_id",
    "tag_key",
    "about_key",
    "case_status",
    "date_opened",
    "about",
)


def _plan_creates(scope: Scope) -> DirectCopy:
    # A check-only add records its plan as it reads: every row a create, with its values. The
    # file's repeats and the stored cases are looked up once it is in (stored ones not at all
    # for an app with no cases yet). Repeats are counted by the keys' 64-bit hashes, sorted
    # (grouping the text keys took three times as long); two keys sharing a hash only send the
    # file to the checked path, which compares the keys themselves.
    import_id, create = scope.import_id, int(ChangeAction.CREATE)

    def record(line: int, row: Values) -> Record:
        tag, status, opened, about = row
        return (import_id, line, create, tag, tag_key(tag), about_key(about), status, opened, about)

    return DirectCopy(
        table="import_changes",
        columns=_PLANNED_CREATE_COLUMNS,
        record=record,
        refused=Statement(
            """
            WITH planned AS (SELECT tag_key, about_key FROM import_changes WHERE import_id = $2)
            SELECT (SELECT count(DISTINCT hashtextextended(tag_key, 0)) <> count(tag_key)
                        OR count(DISTINCT hashtextextended(about_key, 0)) <> count(about_key)
                    FROM planned)
                OR (EXISTS (SELECT 1 FROM cases WHERE app_id = $1)
                    AND (EXISTS (SELECT 1 FROM planned p JOIN cases c
                                 ON c.app_id = $1 AND c.tag_key = p.tag_key)
                         OR EXISTS (SELECT 1 FROM planned p JOIN cases c
                                    ON c.app_id = $1 AND c.about_key = p.about_key)))
            """,
            APP_AND_IMPORT,
        ),
    )


def _changes(stored: str) -> str:
    """True when the row ``s`` changes the case ``stored``: a blank cell (NULL) keeps a value."""
    return f"""
        (s.case_status IS NOT NULL AND s.case_status <> {stored}.case_status)
        OR (s.date_opened IS NOT NULL AND s.date_opened <> {stored}.date_opened)
        OR (s.about IS NOT NULL AND s.about <> {stored}.about)
    """


_CHANGES = _changes("c")

# What a good row does to its case: a create when no case has its tag, an update when it
# changes the case, else unchanged.
_ACTION = f"""
    CASE WHEN c.id IS NULL THEN {int(ChangeAction.CREATE)}
         WHEN {_CHANGES} THEN {int(ChangeAction.UPDATE)}
         ELSE {int(ChangeAction.UNCHANGED)} END
"""


# The columns of ``import_changes`` that say what a good row does, and their values for the
# row ``s`` and the case ``stored`` it names (NULL for a new tag) when ``updates`` holds: a
# create's values; an update's changed values (NULL for a field it leaves as it is) and the
# case's whole before-image; an unchanged row's case.
_RECORDED_COLUMNS = (
    "case_id, tag_id, tag_key, about_key, case_status, date_opened, about, "
    "old_case_status, old_date_opened, old_about, old_about_key"
)


def _recorded(stored: str, updates: str) -> str:
    c, new_or = stored, f"{stored}.id IS NULL OR"  # a new tag records every value it gives
    return f"""
        {c}.id, coalesce({c}.tag_id, s.tag_id),
        CASE WHEN {c}.id IS NULL THEN s.tag_key END,
        CASE WHEN {new_or} s.about <> {c}.about THEN s.about_key END,
        CASE WHEN {new_or} s.case_status <> {c}.case_status THEN s.case_status END,
        CASE WHEN {new_or} s.date_opened <> {c}.date_opened THEN s.date_opened END,
        CASE WHEN {new_or} s.about <> {c}.about THEN s.about END,
        CASE WHEN {updates} THEN {c}.case_status END,
        CASE WHEN {updates} THEN {c}.date_opened END,
        CASE WHEN {updates} THEN {c}.about END,
        CASE WHEN {updates} AND s.about <> {c}.about THEN {c}.about_key END
    """


def _record_changes(*, creates: bool) -> Statement:
    """Records what each good staged row does, before it is done (``_recorded``). An applied
    import's creates are left out (``cases.created_line`` says them). It answers the counts of
    what it recorded."""
    only_stored = "" if creates else "AND c.id IS NOT NULL"
    return Statement(
        f"""
        WITH recorded AS (
            INSERT INTO import_changes (import_id, line, action, {_RECORDED_COLUMNS})
            SELECT $2, s.line, a.action, {_recorded("c", f"a.action = {int(ChangeAction.UPDATE)}")}
            FROM {STAGE} s
            LEFT JOIN cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
            CROSS JOIN LATERAL (SELECT {_ACTION} AS action) a
            WHERE {GOOD_ROW} {only_stored}
            RETURNING action
        )
        SELECT count(*) FILTER (WHERE action = {int(ChangeAction.CREATE)}) AS created,
               count(*) FILTER (WHERE action = {int(ChangeAction.UPDATE)}) AS updated,
               count(*) FILTER (WHERE action = {int(ChangeAction.UNCHANGED)}) AS unchanged
        FROM recorded
        """,
        APP_AND_IMPORT,
    )


RECORD_APPLIED = _record_changes(creates=False)
RECORD_PLAN = _record_changes(creates=True)
# The tag as the file wrote it, where it could be read.
RECORD_FAILED = Statement(
    f"""
    INSERT INTO import_changes (import_id, line, action, tag_id)
    SELECT $1, s.line, {int(ChangeAction.FAILED)}, s.tag_id FROM {STAGE} s
    WHERE NOT ({GOOD_ROW})
    """,
    ("import_id",),
)


def _insert_from_stage(also: str) -> str:
    """The new cases of the good rows (``also``: a further condition), in line order."""
    return f"""
        INSERT INTO cases ({", ".join(_CASE_COLUMNS)})
        SELECT $1, s.tag_id, s.tag_key, s.case_status, s.date_opened, s.about,
               s.about_key, $2, $2, s.line
        FROM {STAGE} s WHERE {GOOD_ROW} {also}
        ORDER BY s.line
    """


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
        {_insert_from_stage("")}
        """,
        APP_AND_IMPORT,
    ),
    record=RECORD_APPLIED,
    plan=RECORD_PLAN,
    record_failed=RECORD_FAILED,
    outcome=lambda changed, good: Outcome(created=changed),
    direct_copy=_copy_into_cases,
    dry_copy=_plan_creates,
)


def _abouts(join: str) -> str:
    """Good rows that set a description, with the case they change (``LEFT JOIN``: or NULL for
    a new case)."""
    return f"""
        SELECT s.line, s.about, s.about_key, c.id AS case_id
        FROM {STAGE} s {join} cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
        WHERE s.about IS NOT NULL AND {GOOD_ROW}
    """


_ABOUT_CHANGES = _abouts("JOIN")


def set_from(rows: str, *, by: str = "$2") -> str:
    """The SET list of a change of case ``c``: the given values of ``rows``, the case's own
    where one is NULL (a blank cell), and the import ``by`` that changed it."""
    return f"""
        case_status = coalesce({rows}.case_status, c.case_status),
        date_opened = coalesce({rows}.date_opened, c.date_opened),
        about = coalesce({rows}.about, c.about),
        about_key = coalesce({rows}.about_key, c.about_key),
        updated_at = now(),
        updated_by_import = {by}
    """


# The stored cases the good rows change.
_UPDATE_FROM_STAGE = f"""
    UPDATE cases c SET {set_from("s")}
    FROM {STAGE} s
    WHERE c.app_id = $1 AND c.tag_key = s.tag_key AND {GOOD_ROW} AND ({_CHANGES})
"""


def _about_kept_by_another(abouts: str) -> Statement:
    """A new description that another case keeps after the file is applied: the state after
    the whole file counts, so two cases may swap descriptions."""
    return _errors(f"""
        WITH ch AS ({abouts})
        SELECT ch.line, 3, 'about', ch.about, 'about_taken',
               format('about already describes case "%s"; descriptions must be unique.',
                      o.tag_id)
        FROM ch JOIN cases o ON o.app_id = $1 AND o.about_key = ch.about_key
                            AND o.id IS DISTINCT FROM ch.case_id
        WHERE NOT EXISTS (SELECT 1 FROM ch AS moved WHERE moved.case_id = o.id)
    """)


def _about_given_twice(abouts: str) -> Statement:
    """Two rows giving two cases the same new description: the later one is refused."""
    return _errors(f"""
        SELECT line, 3, 'about', about, 'about_taken',
               format('about is also given to another case on line %s; '
                      'descriptions must be unique.', first_line)
        FROM (SELECT line, about, min(line) OVER (PARTITION BY about_key) AS first_line
              FROM ({abouts}) AS ch) AS d
        WHERE line <> first_line
    """)


_ABOUT_KEPT_BY_ANOTHER = _about_kept_by_another(_ABOUT_CHANGES)

# The batch's subquery: a row's line, the row version of its case, what it records.
_RETURNED = f"line, found, {_RECORDED_COLUMNS}"

# Each batch changes its cases in one UPDATE, found by key once: the case as the statement
# found it (``o``, its before-image) is the very row version it updates (``ctid``), and what
# the UPDATE returns is recorded. A repeated tag needs no table of every tag seen: a case this
# import changed carries its id, so the UPDATE passes it by and the batch comes up short. Only a
# batch with unchanged rows (or a problem) is looked at again, row by row: its unchanged rows are
# recorded then, and their cases, which carry no mark, kept for the check at the end. A
# description taken twice is refused by the deferred unique constraint.
_MODIFY_IN_BATCHES = BatchedApply(
    apply=Statement(
        f"""
        WITH changed AS (
            UPDATE cases c SET {set_from("r")}
            FROM (SELECT s.line, o.ctid AS found, {_recorded("o", "true")}
                  FROM {BATCH} s JOIN cases o ON o.app_id = $1 AND o.tag_key = s.tag_key
                  WHERE o.updated_by_import IS DISTINCT FROM $2
                    AND ({_changes("o")})) AS r ({_RETURNED})
            WHERE c.ctid = r.found
            RETURNING r.*
        )
        INSERT INTO import_changes (import_id, line, action, {_RECORDED_COLUMNS})
        SELECT $2, line, {int(ChangeAction.UPDATE)}, {_RECORDED_COLUMNS} FROM changed
        """,
        APP_AND_IMPORT,
    ),
    # A row whose case is unmarked but differs from it was passed by (its case changed under
    # the statement): counted as missing, so the batch is refused, never recorded as unchanged.
    account=Statement(
        f"""
        WITH m AS (
            SELECT s.line, c.id AS case_id, c.tag_id,
                   c.updated_by_import IS NOT DISTINCT FROM $2 AS marked,
                   coalesce({_CHANGES}, false) AS differs
            FROM {BATCH} s LEFT JOIN cases c ON c.app_id = $1 AND c.tag_key = s.tag_key
        ), k AS (
            INSERT INTO {KEPT} (case_id)
            SELECT case_id FROM m WHERE case_id IS NOT NULL AND NOT marked
        ), u AS (
            INSERT INTO import_changes (import_id, line, action, case_id, tag_id)
            SELECT $2, line, {int(ChangeAction.UNCHANGED)}, case_id, tag_id FROM m
            WHERE case_id IS NOT NULL AND NOT marked AND NOT differs
        )
        SELECT count(*) FILTER (WHERE case_id IS NULL OR (differs AND NOT marked)) AS missing,
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
            WHERE s.tag_key IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM cases c
                              WHERE c.app_id = $1 AND c.tag_key = s.tag_key)
        """),
        _about_given_twice(_ABOUT_CHANGES),
        _ABOUT_KEPT_BY_ANOTHER,
    ),
    recheck=_ABOUT_KEPT_BY_ANOTHER,
    apply=Statement(_UPDATE_FROM_STAGE, APP_AND_IMPORT),
    record=RECORD_APPLIED,
    plan=RECORD_PLAN,
    record_failed=RECORD_FAILED,
    outcome=_modified,
    batched=_MODIFY_IN_BATCHES,
)


# A staged row whose tag is no case of the app.
_NEW_TAG = "NOT EXISTS (SELECT 1 FROM cases c WHERE c.app_id = $1 AND c.tag_key = s.tag_key)"

# A new tag of an upsert must give every column of an add.
_NEW_TAG_NEEDS = tuple(
    _errors(f"""
        SELECT s.line, {order}, '{column}', NULL, 'required',
               'A new case needs {column}: tag_id "' || s.tag_id || '" is not a case of this '
               'app yet, so every column of an add is required.'
        FROM {STAGE} s
        WHERE s.cells_ok AND s.{column} IS NULL AND {_NEW_TAG}
    """)
    for order, column in ((1, "case_status"), (2, "date_opened"), (3, "about"))
)

# New cases' descriptions count as a modify's do.
_UPSERT_ABOUTS = _abouts("LEFT JOIN")
_UPSERT_ABOUT_KEPT_BY_ANOTHER = _about_kept_by_another(_UPSERT_ABOUTS)

UPSERT = TypeStatements(
    stored_table="cases",
    staging=STAGING,
    checks=(
        REPEATED_TAG,
        *_NEW_TAG_NEEDS,
        _about_given_twice(_UPSERT_ABOUTS),
        _UPSERT_ABOUT_KEPT_BY_ANOTHER,
    ),
    recheck=_UPSERT_ABOUT_KEPT_BY_ANOTHER,
    # One statement: the stored cases' updates, then the new tags' cases.
    apply=Statement(
        f"""
        WITH updated AS ({_UPDATE_FROM_STAGE} RETURNING c.id)
        {_insert_from_stage(f"AND {_NEW_TAG}")}
        """,
        APP_AND_IMPORT,
    ),
    record=RECORD_APPLIED,
    plan=RECORD_PLAN,
    record_failed=RECORD_FAILED,
    # Only the checked path runs an upsert: its counts are those its rows recorded.
    outcome=_modified,
)
