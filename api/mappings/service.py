"""Offering an app's last column mapping of a type again. No FastAPI here."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.principal import AppAccess
from api.errors import NotFound
from api.import_types.registry import get_type
from api.mappings import repository


async def last_mapping(
    session: AsyncSession, access: AppAccess, type_key: str
) -> dict[str, str | None]:
    if get_type(type_key) is None:
        raise NotFound(f'There is no import type "{type_key}".', code="import_type_not_found")
    return await repository.last_used(session, access.app_id, type_key)
