"""Queries on imports, their files and kept errors. No commits here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.models import App
from api.auth.models import User
from api.imports.models import Import, ImportRowError, StoredFile


@dataclass(frozen=True, slots=True)
class ImportView:
    """An import with what its API object shows beside it."""

    row: Import
    file: StoredFile | None
    app_slug: str
    created_by: str


def _views() -> Select[Import, StoredFile, str, str]:
    return (
        select(Import, StoredFile, App.slug, User.email)
        .join(App, App.id == Import.app_id)
        .join(User, User.id == Import.created_by)
        .outerjoin(StoredFile, StoredFile.id == Import.file_id)
    )


# Built once: every status poll runs it.
_VIEW_BY_ID = _views().where(
    Import.app_id == bindparam("app_id"), Import.id == bindparam("import_id")
)


def _view(row: Row[Import, StoredFile, str, str]) -> ImportView:
    record, stored_file, app_slug, created_by = row
    return ImportView(record, stored_file, app_slug, created_by)


async def get_view(
    session: AsyncSession, app_id: uuid.UUID, import_id: uuid.UUID
) -> ImportView | None:
    found = (
        await session.execute(_VIEW_BY_ID, {"app_id": app_id, "import_id": import_id})
    ).one_or_none()
    return _view(found) if found else None


async def list_views(
    session: AsyncSession,
    app_id: uuid.UUID,
    *,
    status: str | None,
    type_key: str | None,
    limit: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> list[ImportView]:
    query = _views().where(Import.app_id == app_id)
    if status:
        query = query.where(Import.status == status)
    if type_key:
        query = query.where(Import.type == type_key)
    if after:
        created_at, last_id = after
        query = query.where(
            (Import.created_at < created_at)
            | ((Import.created_at == created_at) & (Import.id < last_id))
        )
    query = query.order_by(Import.created_at.desc(), Import.id.desc()).limit(limit)
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


async def errors_page(
    session: AsyncSession, import_id: uuid.UUID, *, limit: int, after_seq: int | None
) -> list[ImportRowError]:
    query = select(ImportRowError).where(ImportRowError.import_id == import_id)
    if after_seq is not None:
        query = query.where(ImportRowError.seq > after_seq)
    query = query.order_by(ImportRowError.seq).limit(limit)
    return list((await session.execute(query)).scalars().all())
