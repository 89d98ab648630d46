"""What a Prometheus scrape answers: this process's request counts, and import counts read from
PostgreSQL at scrape time."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.imports.models import Import
from api.metrics.registry import render


async def import_counts(session: AsyncSession) -> list[tuple[str, str, int]]:
    """(type, status, count) of every kind of import there is."""
    rows = await session.execute(
        select(Import.type, Import.status, func.count()).group_by(Import.type, Import.status)
    )
    return [(t, s, int(n)) for t, s, n in rows.all()]


async def exposition(session: AsyncSession, uploads_in_flight: int) -> str:
    """The metrics in Prometheus's text format."""
    return render(await import_counts(session), uploads_in_flight)
