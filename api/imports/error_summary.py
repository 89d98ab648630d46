"""An import's errors grouped by code and column, over every error (the worker counted them
all when it finished; only the first are kept in full). No FastAPI here."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.principal import AppAccess
from api.imports import repository, service
from api.imports.repository import ErrorCounts


async def error_summary(
    session: AsyncSession, access: AppAccess, import_id: uuid.UUID
) -> ErrorCounts:
    await service.get_import(session, access, import_id)
    return await repository.error_counts(session, import_id)
