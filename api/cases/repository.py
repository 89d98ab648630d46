"""Reading cases for the dashboard. Cases are written only by the worker's import jobs."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.cases.models import Case

SortKey = Literal["date_opened", "-date_opened", "tag_id", "-tag_id", "updated_at", "-updated_at"]

_SORT_COLUMNS: dict[str, Any] = {
    "date_opened": Case.date_opened,
    "tag_id": Case.tag_key,
    "updated_at": Case.updated_at,
}


@dataclass(frozen=True, slots=True)
class CaseFilter:
    status: int | None = None
    q: str | None = None
    opened_from: date | None = None
    opened_to: date | None = None


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(app_id: uuid.UUID, f: CaseFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Case.app_id == app_id]
    if f.status is not None:
        conditions.append(Case.case_status == f.status)
    if f.q:
        pattern = f"%{_escape_like(f.q.strip())}%"
        conditions.append(or_(Case.tag_id.ilike(pattern), Case.about.ilike(pattern)))
    if f.opened_from:
        conditions.append(Case.date_opened >= f.opened_from)
    if f.opened_to:
        conditions.append(Case.date_opened <= f.opened_to)
    return conditions


def sort_value(case: Case, sort: SortKey) -> Any:
    column = sort.lstrip("-")
    return case.tag_key if column == "tag_id" else getattr(case, column)


async def list_cases(
    session: AsyncSession,
    app_id: uuid.UUID,
    f: CaseFilter,
    *,
    sort: SortKey,
    limit: int,
    after: tuple[Any, int] | None,
) -> list[Case]:
    column = _SORT_COLUMNS[sort.lstrip("-")]
    descending = sort.startswith("-")
    query = select(Case).where(*_conditions(app_id, f))
    if after is not None:
        value, last_id = after
        if descending:
            query = query.where((column < value) | ((column == value) & (Case.id < last_id)))
        else:
            query = query.where((column > value) | ((column == value) & (Case.id > last_id)))
    order = (column.desc(), Case.id.desc()) if descending else (column.asc(), Case.id.asc())
    query = query.order_by(*order).limit(limit)
    return list((await session.execute(query)).scalars().all())


async def get_case(session: AsyncSession, app_id: uuid.UUID, tag_id: str) -> Case | None:
    query = select(Case).where(Case.app_id == app_id, Case.tag_key == tag_id.lower())
    return (await session.execute(query)).scalar_one_or_none()


async def stats(session: AsyncSession, app_id: uuid.UUID) -> tuple[int, int]:
    """(active, closed)."""
    query = select(
        func.count().filter(Case.case_status == 1), func.count().filter(Case.case_status == 0)
    ).where(Case.app_id == app_id)
    active, closed = (await session.execute(query)).one()
    return int(active), int(closed)
