from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.apps.deps import AppAccessDep
from api.cases import repository
from api.cases.models import Case
from api.cases.repository import CaseFilter, SortKey
from api.cases.schemas import CaseOut, CasePage, CaseStats
from api.deps import SessionDep
from api.errors import NotFound
from api.paging import decode_cursor, encode_cursor

router = APIRouter(prefix="/apps/{app}/cases", tags=["cases"])


def case_out(case: Case) -> CaseOut:
    return CaseOut(
        tag_id=case.tag_id,
        case_status=case.case_status,
        status="active" if case.case_status == 1 else "closed",
        date_opened=case.date_opened,
        about=case.about,
        created_at=case.created_at,
        updated_at=case.updated_at,
        created_by_import=case.created_by_import,
        updated_by_import=case.updated_by_import,
    )


def _cursor_value(sort: SortKey, raw: str) -> object:
    column = sort.lstrip("-")
    if column == "date_opened":
        return date.fromisoformat(raw)
    if column == "updated_at":
        return datetime.fromisoformat(raw)
    return raw


@router.get("", response_model=CasePage)
async def list_cases(
    access: AppAccessDep,
    session: SessionDep,
    status: Literal["active", "closed"] | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
    sort: SortKey = "-updated_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> CasePage:
    """The Cases dashboard: filter by status, text (in tag_id and about) and opening dates."""
    filters = CaseFilter(
        status=None if status is None else int(status == "active"),
        q=q or None,
        opened_from=opened_from,
        opened_to=opened_to,
    )
    after = None
    if cursor:
        value, last_id = decode_cursor(cursor, 2)
        after = (_cursor_value(sort, str(value)), int(last_id))
    cases = await repository.list_cases(
        session, access.app_id, filters, sort=sort, limit=limit + 1, after=after
    )
    page, more = cases[:limit], len(cases) > limit
    next_cursor = None
    if more:
        last = page[-1]
        next_cursor = encode_cursor([str(repository.sort_value(last, sort)), last.id])
    return CasePage(items=[case_out(c) for c in page], next_cursor=next_cursor)


@router.get("/stats", response_model=CaseStats)
async def case_stats(access: AppAccessDep, session: SessionDep) -> CaseStats:
    active, closed = await repository.stats(session, access.app_id)
    return CaseStats(total=active + closed, active=active, closed=closed)


@router.get("/{tag_id}", response_model=CaseOut)
async def get_case(tag_id: str, access: AppAccessDep, session: SessionDep) -> CaseOut:
    """One case by its tag_id, in any letter case."""
    case = await repository.get_case(session, access.app_id, tag_id)
    if case is None:
        raise NotFound(f'There is no case "{tag_id}" in this app.', code="case_not_found")
    return case_out(case)
