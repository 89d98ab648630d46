"""The files an import was given, its current one last, and downloading them (admins only).
No FastAPI here."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.service import require_admin
from api.auth.principal import AppAccess
from api.errors import Gone, NotFound
from api.imports import file_history, service
from api.imports.file_history import KeptFile
from api.imports.repository import ImportView


@dataclass(frozen=True, slots=True)
class KeptFiles:
    view: ImportView
    files: list[KeptFile]


async def files_of(session: AsyncSession, access: AppAccess, import_id: uuid.UUID) -> KeptFiles:
    """Oldest first; the last is the current file."""
    view = await service.get_import(session, access, import_id)
    return KeptFiles(view, await file_history.files_of(session, import_id))


async def to_download(
    session: AsyncSession, access: AppAccess, import_id: uuid.UUID, n: int | None
) -> KeptFile:
    """The file to send: the ``n``-th, or the current one (None). 410 once it was purged."""
    require_admin(access)
    await service.get_import(session, access, import_id)
    if n is None:
        files = await file_history.files_of(session, import_id)
        found = files[-1] if files else None
    else:
        found = await file_history.file_of(session, import_id, n)
    if found is None:
        raise NotFound(
            "This import has no such file." if n is not None else "This import has no file yet.",
            code="file_not_found",
        )
    if found.purged_at is not None:
        raise Gone(
            f"The file {found.filename} was deleted on {found.purged_at:%Y-%m-%d}, past the time "
            "files are kept; its description remains.",
            code="file_purged",
        )
    return found
