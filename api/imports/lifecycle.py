"""Every change of an import's state, and the only code that writes one.

The life of an import::

    create ─▶ draft ── attach ─▶ queued ── claim ─▶ validating ── beat ─▶ applying
                                   ▲                    │                    │
             attach (a failed one) │        complete / fail (one transaction with the apply)
                                   │                    ▼
              after_crash, expire_leases ◀── a crash, or a worker gone or silent: queued again
              hand_back                        with the next attempt, or failed once
                                               ``max_attempts`` attempts broke off; a worker
                                               asked to stop hands its attempt back (no crash)

A draft, a queued or a validating import can be cancelled. The attempt number is a fencing token:
each queueing increments it, and a worker's transitions name the attempt they act for, so a
worker that was given up on changes nothing when it comes back; its database session, which
holds the app's turn and the attempt's transaction, is ended when its lease expires.

Imports of an app run one at a time in the order they were queued: the next is always the
oldest one not finished (``head_of_app``), whatever the queue says, and a later import never
starts while an earlier one is queued or running.

The API's transitions run in the request's session (SQLAlchemy); the worker's on its asyncpg
connection, the final ones inside the transaction that applies the rows.

Each transition announces itself (``_notify``: ``pg_notify``, delivered when its transaction
commits) to the API processes that stream the import's events (``api/events/``). A claim, a
beat and a hand-back announce in their own statement (``RETURNING ..., pg_notify``): one round
trip, and only when the row changed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import overload

import asyncpg
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Conflict
from api.events.publish import NOTIFIED, Beat, payload
from api.events.publish import notify as _notify
from api.import_types.dates import DateOrder
from api.import_types.row_error import ImportWarning, RowError
from api.imports import file_history
from api.imports.error_groups import ErrorGroup
from api.imports.file_format import FileFormat
from api.imports.models import Import, ImportRowError
from api.imports.status import (
    ACTIVE,
    ATTACHABLE,
    CANCELLABLE,
    RUNNING,
    ImportStatus,
    sql_list,
)
from api.nul import NUL, SHOWN
from api.pg import Connection, Pool, advisory_key
from api.reading.header import ColumnMapping
from api.webhooks import outbox

log = logging.getLogger(__name__)

QUEUED = ImportStatus.QUEUED
_RUNNING = sql_list(RUNNING)


# --- the API's transitions (the request's session; the request commits) ---------------------


async def create(
    session: AsyncSession,
    *,
    app_id: uuid.UUID,
    name: str,
    type_key: str,
    validate_only: bool,
    on_error: str,
    date_order: DateOrder,
    encoding: str | None,
    sheet: str | None,
    created_by: uuid.UUID,
    file_id: uuid.UUID | None,
    columns: ColumnMapping | None = None,
) -> Import:
    """A new import: queued when it has its file, else a draft. ``IntegrityError`` when the
    name is taken in the app."""
    has_file = file_id is not None
    record = Import(
        app_id=app_id,
        name=name,
        type=type_key,
        validate_only=validate_only,
        on_error=on_error,
        date_order=date_order,
        encoding=encoding,
        sheet=sheet,
        columns=dict(columns) if columns is not None else None,
        created_by=created_by,
        status=QUEUED if has_file else ImportStatus.DRAFT,
        file_id=file_id,
        attempt=1 if has_file else 0,
        queued_at=datetime.now(UTC) if has_file else None,
        rows_processed=0,
        bytes_processed=0,
    )
    session.add(record)
    await session.flush()
    if file_id is not None:
        await file_history.add(session, record.id, file_id)
    await _notify(session, record.id)
    return record


async def create_derived(
    session: AsyncSession,
    source: Import,
    *,
    name: str,
    type_key: str,
    on_error: str,
    created_by: uuid.UUID,
    plan_id: uuid.UUID | None = None,
    revert_of: uuid.UUID | None = None,
    checks_again: uuid.UUID | None = None,
) -> Import:
    """An import made from another, queued at once: the apply of a plan (``plan_id``; it keeps
    the plan's file, which it does not read), a revert (``revert_of``; no file), or a check
    again (``checks_again``; a check-only import that reads the source's file again, with its
    options and column mapping). An apply and a check again list the source's file as their
    own first one (shared, not copied: it can be downloaded from either).
    ``IntegrityError`` when the name is taken or the plan was applied already."""
    checking = checks_again is not None
    record = Import(
        app_id=source.app_id,
        name=name,
        type=type_key,
        validate_only=checking,
        on_error=on_error,
        date_order=source.date_order,
        encoding=source.encoding,
        sheet=source.sheet,
        columns=source.columns if checking else None,
        created_by=created_by,
        status=QUEUED,
        file_id=source.file_id if plan_id is not None or checking else None,
        plan_id=plan_id,
        revert_of=revert_of,
        checks_again=checks_again,
        attempt=1,
        queued_at=datetime.now(UTC),
        rows_processed=0,
        bytes_processed=0,
    )
    session.add(record)
    await session.flush()
    if record.file_id is not None:
        await file_history.add(session, record.id, record.file_id)
    await _notify(session, record.id)
    return record


def _refuse_unless(record: Import, allowed: frozenset[ImportStatus], code: str, rule: str) -> None:
    if record.status not in allowed:
        raise Conflict(f"{rule}; this one is {record.status}.", code=code)


def ensure_attachable(record: Import) -> None:
    """Conflict unless a file may be attached: asked before the upload is read."""
    if record.plan_id is not None or record.revert_of is not None:
        raise Conflict(
            "This import applies a plan or reverts an import: it takes no file.",
            code="import_not_editable",
        )
    _refuse_unless(
        record,
        ATTACHABLE,
        "import_not_editable",
        "A file can be attached to a draft or a failed import",
    )


def ensure_correctable(record: Import) -> None:
    """Conflict unless cells of the import's file may be corrected: it failed on its rows."""
    _refuse_unless(
        record,
        frozenset({ImportStatus.FAILED}),
        "import_not_failed",
        "Cells can be corrected in a failed import",
    )
    ensure_rows_read(record)


def ensure_rows_read(record: Import) -> None:
    """Conflict unless the worker read the import's file as rows (a file-level error, such as
    its encoding or its header, stops it before)."""
    if record.file_id is None or record.result is None:
        raise Conflict(
            "The import's file was not read as rows (see its error); upload a corrected file "
            "instead.",
            code="rows_not_read",
        )


async def attach(
    session: AsyncSession, record: Import, file_id: uuid.UUID, *, rewritten: bool = False
) -> None:
    """Give a draft its file, or a failed import a corrected one, and queue it (the next
    attempt). ``record`` is locked by the caller. The file before is kept, with its outcome.
    ``rewritten``: the service wrote the file (a UTF-8 CSV of corrections), so the encoding
    and sheet named for the upload no longer apply."""
    ensure_attachable(record)
    if rewritten:
        record.encoding = record.sheet = None
    await file_history.close(session, record)
    await file_history.add(session, record.id, file_id)
    await session.execute(delete(ImportRowError).where(ImportRowError.import_id == record.id))
    record.file_id = file_id
    record.status = QUEUED
    record.attempt += 1
    record.queued_at = datetime.now(UTC)
    record.started_at = record.finished_at = record.lease_until = None
    record.worker_pid = None
    record.crashes = 0
    record.rows_processed = record.bytes_processed = 0
    record.rows_total = record.error_count = record.error_rows = None
    record.error_groups = None
    record.result = record.warnings = None
    record.file_format = record.file_encoding = record.file_delimiter = None
    record.error_summary = None
    await session.flush()
    await _notify(session, record.id)


async def cancel(session: AsyncSession, record: Import) -> None:
    """Stop an import before anything of it is applied. ``record`` is locked by the caller."""
    _refuse_unless(
        record,
        CANCELLABLE,
        "import_not_cancellable",
        "Only a draft, queued or validating import can be cancelled",
    )
    # The worker's beats and its final transition both require a running status, so a job
    # under way stops at its next beat and can never complete after this commits.
    record.status = ImportStatus.CANCELLED
    record.finished_at = datetime.now(UTC)
    record.lease_until = None
    record.worker_pid = None
    await session.flush()
    await outbox.import_finished(
        await outbox.connection_of(session), record.id, record.status, None
    )
    await _notify(session, record.id)


# --- the worker's transitions (asyncpg) ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Claim:
    """An import a worker has claimed for one attempt: what its job needs to run it."""

    import_id: uuid.UUID
    attempt: int
    app_id: uuid.UUID
    type_key: str
    file_id: uuid.UUID | None
    validate_only: bool
    skip_bad_rows: bool
    date_order: DateOrder
    # The file's encoding as the user named it, or None for the worker to decide.
    encoding: str | None
    # A workbook's sheet as the user named it, or None for the first visible one.
    sheet: str | None
    # The check-only import whose changes this one applies, or the import it reverts.
    plan_id: uuid.UUID | None = None
    revert_of: uuid.UUID | None = None
    # The upload's column mapping, or None.
    columns: ColumnMapping | None = None
    # The SHA-256 of the file this attempt reads.
    file_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class ReadAs:
    """How the worker read the file: its format and, for CSV text, its encoding and delimiter;
    and how many empty rows it skipped."""

    format: FileFormat
    encoding: str | None = None
    delimiter: str | None = None
    blank_rows: int = 0


@dataclass(frozen=True, slots=True)
class Counts:
    """The result of an import: rows read, and what became of them. An applied import
    reconciles: ``rows`` = created + updated + unchanged + failed, besides the ``blank_rows``
    skipped, of the file whose SHA-256 is ``sha256``."""

    rows: int
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    # A revert's removal of the cases its import created.
    deleted: int = 0
    blank_rows: int = 0
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Queued:
    import_id: uuid.UUID
    attempt: int


@dataclass(frozen=True, slots=True)
class Head:
    """The import of an app that runs next: the oldest one not finished."""

    import_id: uuid.UUID
    attempt: int
    status: ImportStatus


_CLAIM = f"""
    UPDATE imports
    SET status = '{ImportStatus.VALIDATING}', started_at = now(), finished_at = NULL,
        lease_until = now() + make_interval(secs => $3), worker_pid = pg_backend_pid(),
        rows_processed = 0, bytes_processed = 0, rows_total = NULL
    WHERE id = $1 AND attempt = $2 AND status = '{QUEUED}'
    RETURNING id, app_id, type, file_id, validate_only, on_error, date_order, encoding, sheet,
              plan_id, revert_of, columns,
              (SELECT sha256 FROM files WHERE files.id = imports.file_id) AS file_sha256,
              {NOTIFIED.format(payload="$4")}
"""


async def claim(
    conn: Connection, import_id: uuid.UUID, attempt: int, lease_seconds: float
) -> Claim | None:
    """queued → validating, with a lease, run by ``conn``'s backend (which the reconciler ends
    if the lease expires: ``conn`` must be the one that holds the app's turn and runs the
    attempt's transaction). None when this attempt is not queued (finished, cancelled, claimed
    by another run of the job, or superseded)."""
    row = await conn.fetchrow(_CLAIM, import_id, attempt, float(lease_seconds), payload(import_id))
    if row is None:
        return None
    return Claim(
        # The ids as asyncpg returns them, in its own UUID type: an add copies the import's id
        # into each case twice, and asyncpg encodes its own type much faster than uuid.UUID.
        import_id=row["id"],
        attempt=attempt,
        app_id=row["app_id"],
        type_key=row["type"],
        file_id=row["file_id"],
        validate_only=row["validate_only"],
        skip_bad_rows=row["on_error"] == "skip",
        date_order=DateOrder(row["date_order"]),
        encoding=row["encoding"],
        sheet=row["sheet"],
        plan_id=row["plan_id"],
        revert_of=row["revert_of"],
        columns=json.loads(row["columns"]) if row["columns"] is not None else None,
        file_sha256=row["file_sha256"],
    )


_BEAT = f"""
    UPDATE imports
    SET status = $3, rows_processed = $4, bytes_processed = $5,
        lease_until = now() + make_interval(secs => $6)
    WHERE id = $1 AND attempt = $2 AND status IN {_RUNNING}
    RETURNING 1, {NOTIFIED.format(payload="$7")}
"""


async def beat(
    conn: Connection,
    claim: Claim,
    *,
    status: ImportStatus,
    rows: int,
    bytes_read: int,
    lease_seconds: float,
) -> bool:
    """A running import's live state: its progress, its renewed lease, and validating →
    applying once the job applies. False when the attempt no longer owns the import."""
    assert status in RUNNING
    alive = await conn.fetchval(
        _BEAT,
        claim.import_id,
        claim.attempt,
        status.value,
        rows,
        bytes_read,
        float(lease_seconds),
        payload(claim.import_id, Beat(claim.attempt, status, rows, bytes_read)),
    )
    return bool(alive)


_FINISH = f"""
    UPDATE imports SET status = $3, result = $4::jsonb, error_summary = $5, error_count = $6,
        rows_total = $7::bigint, rows_processed = coalesce($7::bigint, 0), warnings = $8::jsonb,
        file_format = $9, file_encoding = $10, file_delimiter = $11,
        error_rows = $12, error_groups = $13::jsonb,
        finished_at = clock_timestamp(), lease_until = NULL, worker_pid = NULL
    WHERE id = $1 AND attempt = $2 AND status IN {_RUNNING}
    RETURNING 1
"""


async def _finish(
    conn: Connection,
    claim: Claim,
    status: ImportStatus,
    *,
    rows: int | None,
    counts: Counts | None,
    errors: Sequence[RowError],
    error_count: int | None,
    error_rows: int | None,
    error_groups: Sequence[ErrorGroup],
    summary: str | None,
    warnings: Sequence[ImportWarning],
    read_as: ReadAs | None,
) -> bool:
    # In the transaction that applied the rows: both happen, or neither. The clock's time, not
    # now(): the transaction may have begun when the file's first row was read.
    assert conn.is_in_transaction()
    owned = await conn.fetchval(
        _FINISH,
        claim.import_id,
        claim.attempt,
        status.value,
        json.dumps(asdict(counts)) if counts is not None else None,
        storable(summary),
        error_count,
        rows,
        json.dumps([asdict(replace(w, message=storable(w.message))) for w in warnings])
        if warnings
        else None,
        read_as.format.value if read_as else None,
        read_as.encoding if read_as else None,
        read_as.delimiter if read_as else None,
        error_rows,
        json.dumps([asdict(_storable_group(g)) for g in error_groups]) if error_groups else None,
    )
    if not owned:
        return False
    await _store_errors(conn, claim.import_id, errors)
    await outbox.import_finished(conn, claim.import_id, status, claim.revert_of)
    await _notify(conn, claim.import_id)
    return True


async def complete(
    conn: Connection,
    claim: Claim,
    counts: Counts,
    *,
    errors: Sequence[RowError] = (),
    error_count: int | None = None,
    error_rows: int | None = None,
    error_groups: Sequence[ErrorGroup] = (),
    summary: str | None = None,
    warnings: Sequence[ImportWarning] = (),
    read_as: ReadAs | None = None,
) -> bool:
    """running → completed, in the apply's transaction; with ``errors`` (the kept ones of
    ``error_count`` errors on ``error_rows`` rows) when bad rows were skipped. False when the
    attempt no longer owns the import: the caller rolls back."""
    return await _finish(
        conn,
        claim,
        ImportStatus.COMPLETED,
        rows=counts.rows,
        counts=counts,
        errors=errors,
        error_count=error_count,
        error_rows=error_rows,
        error_groups=error_groups,
        summary=summary,
        warnings=warnings,
        read_as=read_as,
    )


async def fail(
    conn: Connection,
    claim: Claim,
    *,
    counts: Counts | None,
    errors: Sequence[RowError],
    error_count: int,
    error_rows: int,
    error_groups: Sequence[ErrorGroup],
    summary: str,
    warnings: Sequence[ImportWarning] = (),
    read_as: ReadAs | None = None,
) -> bool:
    """running → failed, nothing applied: the file's errors, the kept ones of ``error_count``
    on ``error_rows`` rows (``counts`` is None when the file could not be read as rows). False
    when the attempt no longer owns the import."""
    return await _finish(
        conn,
        claim,
        ImportStatus.FAILED,
        rows=counts.rows if counts is not None else None,
        counts=counts,
        errors=errors,
        error_count=error_count,
        error_rows=error_rows,
        error_groups=error_groups,
        summary=summary,
        warnings=warnings,
        read_as=read_as,
    )


@overload
def storable(text: str) -> str: ...
@overload
def storable(text: None) -> None: ...
def storable(text: str | None) -> str | None:
    """Text PostgreSQL can store: it refuses NUL, which is shown as ␀ instead."""
    return None if text is None else text.replace(NUL, SHOWN)


def _storable_group(group: ErrorGroup) -> ErrorGroup:
    return replace(group, column=storable(group.column), message=storable(group.message))


async def _store_errors(conn: Connection, import_id: uuid.UUID, errors: Sequence[RowError]) -> None:
    await conn.execute("DELETE FROM import_errors WHERE import_id = $1", import_id)
    if errors:
        await conn.copy_records_to_table(
            "import_errors",
            records=[
                (
                    import_id,
                    seq,
                    e.line,
                    storable(e.column),
                    storable(e.value),
                    e.code,
                    storable(e.message),
                )
                for seq, e in enumerate(errors)
            ],
            columns=["import_id", "seq", "line", "column", "value", "code", "message"],
        )


_GIVE_UP = f"""
    UPDATE imports SET status = '{ImportStatus.FAILED}', error_summary = $3, error_count = 0,
        error_rows = 0, finished_at = now(), lease_until = NULL, worker_pid = NULL
    WHERE id = $1 AND attempt = $2 AND status IN {_RUNNING}
    RETURNING 1
"""


async def give_up(conn: Connection, claim: Claim, reason: str) -> None:
    """running → failed for an import no attempt could run (no file, an unknown type)."""
    async with conn.transaction():  # the failure, its webhook events and its notice together
        if await conn.fetchval(_GIVE_UP, claim.import_id, claim.attempt, reason):
            await outbox.import_finished(conn, claim.import_id, ImportStatus.FAILED, None)
            await _notify(conn, claim.import_id)


# The retry-or-fail policy, decided in one statement: an attempt that broke off (a crash, a
# worker gone silent or gone) is queued again with the next attempt number until
# ``max_attempts`` of them have broken off; then the import fails. Nothing was applied either
# way (the apply and the final transition are one transaction). The SET list reads the row as
# it was, so each CASE sees the old counts.
def _retry_or_fail(which: str) -> str:
    spent = "crashes + 1 >= $2"
    return f"""
        UPDATE imports SET
            status = CASE WHEN {spent} THEN '{ImportStatus.FAILED}' ELSE '{QUEUED}' END,
            attempt = CASE WHEN {spent} THEN attempt ELSE attempt + 1 END,
            crashes = crashes + 1,
            finished_at = CASE WHEN {spent} THEN now() ELSE finished_at END,
            error_count = CASE WHEN {spent} THEN 0 ELSE error_count END,
            error_rows = CASE WHEN {spent} THEN 0 ELSE error_rows END,
            error_summary = CASE WHEN {spent} THEN format($1::text, crashes + 1)
                                 ELSE error_summary END,
            rows_processed = CASE WHEN {spent} THEN rows_processed ELSE 0 END,
            bytes_processed = CASE WHEN {spent} THEN bytes_processed ELSE 0 END,
            lease_until = NULL, worker_pid = NULL
        WHERE {which} AND status IN {_RUNNING}
        RETURNING id, attempt, status
    """


# The backend that ran an attempt is gone: its connection closed (the worker was killed, or
# PostgreSQL restarted). A backend started after the claim is another one with a reused pid.
_SAME_BACKEND = "a.pid = imports.worker_pid AND a.backend_start <= imports.started_at"
_HOLDER_GONE = f"""(worker_pid IS NOT NULL AND NOT EXISTS (
    SELECT 1 FROM pg_stat_activity AS a WHERE {_SAME_BACKEND}))"""

_AFTER_CRASH = _retry_or_fail("id = $3 AND attempt = $4")
_EXPIRED = _retry_or_fail(f"(lease_until < now() OR {_HOLDER_GONE})")

CRASHED = (
    "The import stopped on an internal error %s times and was given up; nothing was applied. "
    "Upload the file again, or contact support if it recurs."
)
WORKER_LOST = (
    "The worker running this import stopped %s times; nothing was applied. Upload the file again."
)


async def _retry_or_fail_matching(
    conn: Connection, statement: str, reason: str, max_attempts: int, *args: object
) -> list[Queued]:
    queued: list[Queued] = []
    # One transaction: an import failed here has its webhook events and its notice, or stays as
    # it was.
    async with conn.transaction():
        for row in await conn.fetch(statement, reason, max_attempts, *args):
            await _notify(conn, row["id"])
            if row["status"] == QUEUED:
                queued.append(Queued(row["id"], row["attempt"]))
            else:
                log.warning("import %s failed after %s attempts", row["id"], row["attempt"])
                await outbox.import_finished(conn, row["id"], ImportStatus.FAILED, None)
    return queued


async def after_crash(conn: Connection, claim: Claim, max_attempts: int) -> Queued | None:
    """running → queued (the next attempt) or failed, after this attempt broke off. Answers
    the attempt to enqueue, if any."""
    requeued = await _retry_or_fail_matching(
        conn, _AFTER_CRASH, CRASHED, max_attempts, claim.import_id, claim.attempt
    )
    return requeued[0] if requeued else None


# Ends the backend of each attempt whose lease expired, waiting up to 5 s for each to exit: its
# transaction rolls back and the app's turn is free, so a frozen worker blocks nothing, and
# whatever it sends when it wakes goes nowhere.
_FENCE = f"""
    SELECT imports.id, pg_terminate_backend(a.pid, 5000) AS ended
    FROM imports JOIN pg_stat_activity AS a ON {_SAME_BACKEND}
    WHERE imports.status IN {_RUNNING} AND imports.lease_until < now()
"""


async def fence_expired(conn: Connection) -> int:
    """End the database sessions of the attempts whose worker went silent past its lease;
    how many were ended."""
    ended = 0
    for row in await conn.fetch(_FENCE):
        log.warning("import %s: lease expired, its worker's session ended", row["id"])
        ended += bool(row["ended"])
    return ended


async def expire_leases(conn: Connection, max_attempts: int) -> list[Queued]:
    """running → queued or failed, for every import whose worker went silent past its lease
    or whose database session is gone. Answers the attempts to enqueue."""
    return await _retry_or_fail_matching(conn, _EXPIRED, WORKER_LOST, max_attempts)


_HAND_BACK = f"""
    UPDATE imports SET status = '{QUEUED}', attempt = attempt + 1, lease_until = NULL,
        worker_pid = NULL, rows_processed = 0, bytes_processed = 0
    WHERE id = $1 AND attempt = $2 AND status IN {_RUNNING}
    RETURNING id, attempt, {NOTIFIED.format(payload="$3")}
"""


async def hand_back(conn: Connection, claim: Claim, backend: int) -> Queued | None:
    """running → queued (the next attempt, not counted as a crash) for a worker asked to stop:
    ``backend``, the session that ran the attempt, is ended first (its transaction rolls back
    and the app's turn is free before another worker looks). Answers the attempt to enqueue."""
    await conn.execute("SELECT pg_terminate_backend($1, 5000)", backend)
    row = await conn.fetchrow(_HAND_BACK, claim.import_id, claim.attempt, payload(claim.import_id))
    if row is None:
        return None
    return Queued(row["id"], row["attempt"])


# The oldest unfinished import of each app, when it is queued and was queued a while ago.
_WAITING_HEADS = f"""
    SELECT DISTINCT ON (app_id) app_id, id, attempt, status, queued_at
    FROM imports WHERE status IN {sql_list(ACTIVE)}
    ORDER BY app_id, queued_at, id
"""


async def waiting_heads(
    conn: Connection, older_than_seconds: float
) -> list[tuple[uuid.UUID, Queued]]:
    """The app and the import that runs next, for each app whose next import has waited in
    the queue for longer than that: its job may have been lost by the queue."""
    rows = await conn.fetch(
        f"""SELECT app_id, id, attempt FROM ({_WAITING_HEADS}) AS heads
            WHERE status = '{QUEUED}' AND queued_at < now() - make_interval(secs => $1)""",
        float(older_than_seconds),
    )
    return [(row["app_id"], Queued(row["id"], row["attempt"])) for row in rows]


async def app_of(conn: Connection | Pool, import_id: uuid.UUID) -> uuid.UUID | None:
    """The app an import belongs to; None when there is no such import."""
    app_id: uuid.UUID | None = await conn.fetchval(
        "SELECT app_id FROM imports WHERE id = $1", import_id
    )
    return app_id


async def head_of_app(conn: Connection | Pool, app_id: uuid.UUID) -> Head | None:
    """The import of the app that runs next: the oldest one queued or running. A later import
    never runs while an earlier one is unfinished."""
    row = await conn.fetchrow(
        f"""SELECT id, attempt, status FROM imports
            WHERE app_id = $1 AND status IN {sql_list(ACTIVE)}
            ORDER BY queued_at, id LIMIT 1""",
        app_id,
    )
    return None if row is None else Head(row["id"], row["attempt"], ImportStatus(row["status"]))


def _turn_key(app_id: uuid.UUID) -> int:
    return advisory_key("app", app_id)


@contextlib.asynccontextmanager
async def app_turn(pool: Pool, app_id: uuid.UUID) -> AsyncIterator[Connection | None]:
    """The app's turn, on a connection that keeps it, or None at once when another session
    has it: imports of one app run one at a time, whichever worker holds them, and no worker
    waits for an app."""
    key = _turn_key(app_id)
    async with pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
            yield None
            return
        try:
            yield conn
        finally:
            # A session that was ended (or lost) has let go of the turn already.
            with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                await conn.execute("SELECT pg_advisory_unlock($1)", key)


async def app_is_idle(conn: Connection, app_id: uuid.UUID) -> bool:
    """Whether no session has the app's turn (asked by taking it and letting it go)."""
    key = _turn_key(app_id)
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", key):
        return False
    await conn.execute("SELECT pg_advisory_unlock($1)", key)
    return True
