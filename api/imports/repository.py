"""Queries on imports, their files and kept errors. No commits here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.models import App
from api.auth.models import User
from api.changes.actions import ChangeAction
from api.changes.models import ImportChange
from api.imports.models import Import, ImportRowError, StoredFile
from api.pg import Connection


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """The columns of an import that its API object shows."""

    id: uuid.UUID
    name: str
    type: str
    status: str
    validate_only: bool
    on_error: str
    date_order: str
    encoding: str | None
    sheet: str | None
    columns: dict[str, str | None] | None
    file_format: str | None
    file_encoding: str | None
    file_delimiter: str | None
    rows_processed: int
    rows_total: int | None
    bytes_processed: int
    result: dict[str, Any] | None
    error_summary: str | None
    error_count: int | None
    error_rows: int | None
    warnings: list[dict[str, Any]] | None
    plan_id: uuid.UUID | None
    revert_of: uuid.UUID | None
    checks_again: uuid.UUID | None
    # Not shown: with the status and progress, it orders an import's states (api/events/).
    attempt: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class FileRecord:
    filename: str
    size_bytes: int
    sha256: str
    purged_at: datetime | None


@dataclass(frozen=True, slots=True)
class ImportView:
    """An import with what its API object shows beside it."""

    row: ImportRecord
    file: FileRecord | None
    app_slug: str
    created_by: str
    # The import that applied this plan, the revert that took this import back (or is queued
    # to), and the latest check of this one's file again, if any.
    applied_by: uuid.UUID | None = None
    reverted_by: uuid.UUID | None = None
    checked_again_by: uuid.UUID | None = None


# Read as plain rows from the tables, not as mapped objects, and the statement for one import is
# built once: every status poll runs it, and the ORM's handling cost more than the query.
_IMPORTS = Import.__table__.c
_FILES = StoredFile.__table__.c
_RECORD = tuple(_IMPORTS[field.name] for field in fields(ImportRecord))
_FILE = tuple(_FILES[field.name] for field in fields(FileRecord))
_WIDTH = len(_RECORD)


_LATER = Import.__table__.alias("later")
_APPLIED_BY = select(_LATER.c.id).where(_LATER.c.plan_id == _IMPORTS.id).scalar_subquery()
_REVERTED_BY = (
    select(_LATER.c.id)
    .where(_LATER.c.revert_of == _IMPORTS.id, _LATER.c.status.not_in(["failed", "cancelled"]))
    .order_by(_LATER.c.created_at.desc())
    .limit(1)
    .scalar_subquery()
)

_CHECKED_AGAIN_BY = (
    select(_LATER.c.id)
    .where(_LATER.c.checks_again == _IMPORTS.id)
    .order_by(_LATER.c.created_at.desc())
    .limit(1)
    .scalar_subquery()
)
_LINKS = (_APPLIED_BY, _REVERTED_BY, _CHECKED_AGAIN_BY)


def _views() -> Select[Any]:
    return select(
        *_RECORD, *_FILE, *_LINKS, App.__table__.c.slug, User.__table__.c.email
    ).select_from(
        Import.__table__.join(App.__table__, App.__table__.c.id == _IMPORTS.app_id)
        .join(User.__table__, User.__table__.c.id == _IMPORTS.created_by)
        .outerjoin(StoredFile.__table__, _FILES.id == _IMPORTS.file_id)
    )


_VIEW_BY_ID = _views().where(
    _IMPORTS.app_id == bindparam("app_id"), _IMPORTS.id == bindparam("import_id")
)


def _view(row: Sequence[Any]) -> ImportView:
    file = row[_WIDTH : _WIDTH + len(_FILE)]
    applied_by, reverted_by, checked_again_by = row[_WIDTH + len(_FILE) : -2]
    return ImportView(
        ImportRecord(*row[:_WIDTH]),
        FileRecord(*file) if file[0] is not None else None,
        row[-2],
        row[-1],
        applied_by=applied_by,
        reverted_by=reverted_by,
        checked_again_by=checked_again_by,
    )


async def get_view(
    session: AsyncSession, app_id: uuid.UUID, import_id: uuid.UUID
) -> ImportView | None:
    found = (
        await session.execute(_VIEW_BY_ID, {"app_id": app_id, "import_id": import_id})
    ).one_or_none()
    return _view(found) if found else None


# The same statement for asyncpg (the worker's transitions write webhook events in their own
# transaction), compiled once; its constants travel as parameters beside the import's id.
_VIEW_BY_IMPORT = (
    _views()
    .where(_IMPORTS.id == bindparam("import_id", uuid.UUID(int=0)))
    .compile(
        dialect=asyncpg_dialect(),  # type: ignore[no-untyped-call]
        compile_kwargs={"render_postcompile": True},
    )
)
_JSON_FIELDS = tuple(
    i
    for i, field in enumerate(fields(ImportRecord))
    if field.name in ("columns", "result", "warnings")
)


async def view_on(conn: Connection, import_id: uuid.UUID) -> ImportView | None:
    """``get_view`` on an asyncpg connection, which hands JSON columns back as text."""
    params = {**_VIEW_BY_IMPORT.params, "import_id": import_id}
    found = await conn.fetchrow(
        str(_VIEW_BY_IMPORT), *(params[name] for name in _VIEW_BY_IMPORT.positiontup or ())
    )
    if found is None:
        return None
    row = list(found)
    for i in _JSON_FIELDS:
        row[i] = json.loads(row[i]) if row[i] is not None else None
    return _view(row)


async def list_views(
    session: AsyncSession,
    app_id: uuid.UUID,
    *,
    status: str | None,
    type_key: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[ImportView]:
    query = _views().where(_IMPORTS.app_id == app_id)
    if status:
        query = query.where(_IMPORTS.status == status)
    if type_key:
        query = query.where(_IMPORTS.type == type_key)
    if after:
        created_at, last_id = after
        query = query.where(
            (_IMPORTS.created_at < created_at)
            | ((_IMPORTS.created_at == created_at) & (_IMPORTS.id < last_id))
        )
    query = query.order_by(_IMPORTS.created_at.desc(), _IMPORTS.id.desc()).limit(limit)
    return [_view(row) for row in (await session.execute(query)).all()]


async def lock(session: AsyncSession, app_id: uuid.UUID, import_id: uuid.UUID) -> Import | None:
    """The import row, locked for this transaction (cancel and attach race with the worker)."""
    return (
        await session.execute(
            select(Import).where(Import.app_id == app_id, Import.id == import_id).with_for_update()
        )
    ).scalar_one_or_none()


async def name_taken(session: AsyncSession, app_id: uuid.UUID, name: str) -> bool:
    found = await session.execute(
        select(Import.id).where(Import.app_id == app_id, Import.name == name)
    )
    return found.first() is not None


@dataclass(frozen=True, slots=True)
class ErrorCounts:
    error_count: int | None
    error_rows: int | None
    error_groups: list[dict[str, Any]] | None


async def error_counts(session: AsyncSession, import_id: uuid.UUID) -> ErrorCounts:
    """The import's error counts and groups (kept out of ``ImportView``: a poll needs none)."""
    found = (
        await session.execute(
            select(Import.error_count, Import.error_rows, Import.error_groups).where(
                Import.id == import_id
            )
        )
    ).one()
    return ErrorCounts(*found)


async def errors_page(
    session: AsyncSession, import_id: uuid.UUID, *, limit: int, after_seq: int | None
) -> list[ImportRowError]:
    query = select(ImportRowError).where(ImportRowError.import_id == import_id)
    if after_seq is not None:
        query = query.where(ImportRowError.seq > after_seq)
    query = query.order_by(ImportRowError.seq).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def get(session: AsyncSession, app_id: uuid.UUID, import_id: uuid.UUID) -> Import | None:
    return (
        await session.execute(select(Import).where(Import.app_id == app_id, Import.id == import_id))
    ).scalar_one_or_none()


async def failed_lines(
    session: AsyncSession, import_id: uuid.UUID, *, after: int, limit: int
) -> list[int]:
    """The lines of the import's failed rows after ``after``, in order, ``limit`` at a time."""
    query = (
        select(ImportChange.line)
        .where(
            ImportChange.import_id == import_id,
            ImportChange.action == ChangeAction.FAILED,
            ImportChange.line > after,
        )
        .order_by(ImportChange.line)
        .limit(limit)
    )
    return list((await session.execute(query)).scalars())


async def kept_errors_by_line(
    session: AsyncSession, import_id: uuid.UUID
) -> dict[int, list[ImportRowError]]:
    """The kept errors of each line (at most ``max_kept_errors`` rows in all)."""
    query = (
        select(ImportRowError)
        .where(ImportRowError.import_id == import_id, ImportRowError.line.is_not(None))
        .order_by(ImportRowError.seq)
    )
    by_line: dict[int, list[ImportRowError]] = {}
    for error in (await session.execute(query)).scalars():
        assert error.line is not None
        by_line.setdefault(error.line, []).append(error)
    return by_line
