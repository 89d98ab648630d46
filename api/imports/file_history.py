"""The files an import was given, in order: a corrected file is added after the one before,
which is kept with the outcome of its run. No commits here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from api.imports.models import Import, ImportFile, StoredFile


async def add(session: AsyncSession, import_id: uuid.UUID, file_id: uuid.UUID) -> None:
    """The import's next file (the import is new, or locked by the caller)."""
    following = (
        select(func.coalesce(func.max(ImportFile.n), 0) + 1)
        .where(ImportFile.import_id == import_id)
        .scalar_subquery()
    )
    await session.execute(
        insert(ImportFile).values(import_id=import_id, n=following, file_id=file_id)
    )


async def close(session: AsyncSession, record: Import) -> None:
    """The current file keeps how its run ended, before a later file replaces it."""
    if record.file_id is None:
        return
    await session.execute(
        update(ImportFile)
        .where(ImportFile.import_id == record.id, ImportFile.file_id == record.file_id)
        .values(
            status=record.status,
            error_count=record.error_count or 0,
            error_rows=record.error_rows or 0,
        )
    )


@dataclass(frozen=True, slots=True)
class KeptFile:
    """One file of an import. ``status`` and the counts are None for the current file, whose
    are the import's own."""

    n: int
    file_id: uuid.UUID
    filename: str
    size_bytes: int
    sha256: str
    attached_at: datetime
    purged_at: datetime | None
    status: str | None
    error_count: int | None
    error_rows: int | None


_KEPT = select(
    ImportFile.n,
    ImportFile.file_id,
    StoredFile.filename,
    StoredFile.size_bytes,
    StoredFile.sha256,
    ImportFile.attached_at,
    StoredFile.purged_at,
    ImportFile.status,
    ImportFile.error_count,
    ImportFile.error_rows,
).join(StoredFile, StoredFile.id == ImportFile.file_id)


async def files_of(session: AsyncSession, import_id: uuid.UUID) -> list[KeptFile]:
    """Oldest first: the current file is the last."""
    query = _KEPT.where(ImportFile.import_id == import_id).order_by(ImportFile.n)
    return [KeptFile(**row._asdict()) for row in (await session.execute(query)).all()]


async def file_of(session: AsyncSession, import_id: uuid.UUID, n: int) -> KeptFile | None:
    query = _KEPT.where(ImportFile.import_id == import_id, ImportFile.n == n)
    found = (await session.execute(query)).one_or_none()
    return KeptFile(**found._asdict()) if found is not None else None
