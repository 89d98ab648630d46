"""The Cases dashboard: an app's cases filtered, sorted and paged; one case; their counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from api.cases import repository
from api.cases.models import Case
from api.cases.repository import CaseFilter, SortKey
from api.errors import NotFound
from api.paging import (
    Key,
    Page,
    bigint_key,
    date_key,
    decode_cursor,
    page_of,
    text_key,
    timestamp_key,
)

CaseStatus = Literal["active", "closed"]
_STATUS_CODES: dict[CaseStatus, int] = {"active": 1, "closed": 0}


@dataclass(frozen=True, slots=True)
class CaseCounts:
    total: int
    active: int
    closed: int


def status_of(case: Case) -> CaseStatus:
    return "active" if case.case_status == _STATUS_CODES["active"] else "closed"


# A cursor carries the sort column's value as text, and the case's id; the comparison needs the
# column's own type back.
_SORT_KEYS: dict[str, Key[date | datetime | str]] = {
    "date_opened": date_key,
    "updated_at": timestamp_key,
    "tag_id": text_key,
}


async def list_cases(
    session: AsyncSession,
    app_id: uuid.UUID,
    *,
    status: CaseStatus | None = None,
    q: str | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
    sort: SortKey = "tag_id",
    limit: int,
    cursor: str | None = None,
) -> Page[Case]:
    filters = CaseFilter(
        status=None if status is None else _STATUS_CODES[status],
        q=q or None,
        opened_from=opened_from,
        opened_to=opened_to,
    )
    after = None
    if cursor:
        after = decode_cursor(cursor, _SORT_KEYS[sort.lstrip("-")], bigint_key)
    cases = await repository.list_cases(
        session, app_id, filters, sort=sort, limit=limit + 1, after=after
    )
    return page_of(cases, limit, lambda last: [str(repository.sort_value(last, sort)), last.id])


async def get_case(session: AsyncSession, app_id: uuid.UUID, tag_id: str) -> Case:
    """One case by its tag_id, in any letter case."""
    case = await repository.get_case(session, app_id, tag_id)
    if case is None:
        raise NotFound(f'There is no case "{tag_id}" in this app.', code="case_not_found")
    return case


async def case_counts(session: AsyncSession, app_id: uuid.UUID) -> CaseCounts:
    active, closed = await repository.stats(session, app_id)
    return CaseCounts(total=active + closed, active=active, closed=closed)
