"""The mapping last used for an app and import type. No commits here."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.mappings.models import ColumnMapping
from api.reading.header import ColumnMapping as Columns


async def remember(
    session: AsyncSession, app_id: uuid.UUID, type_key: str, columns: Columns
) -> None:
    """Keep ``columns`` as the app's mapping for this type, replacing the one before."""
    statement = insert(ColumnMapping).values(app_id=app_id, type=type_key, columns=dict(columns))
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[ColumnMapping.app_id, ColumnMapping.type],
            set_={"columns": statement.excluded.columns, "updated_at": func.now()},
        )
    )


async def last_used(
    session: AsyncSession, app_id: uuid.UUID, type_key: str
) -> dict[str, str | None]:
    """The app's latest mapping for this type; empty when none was used."""
    found = await session.scalar(
        select(ColumnMapping.columns).where(
            ColumnMapping.app_id == app_id, ColumnMapping.type == type_key
        )
    )
    return dict(found) if found is not None else {}
