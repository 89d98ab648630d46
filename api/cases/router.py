from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.apps.deps import AppAccessDep
from api.cases import service
from api.cases.presenter import case_out
from api.cases.repository import SortKey
from api.cases.schemas import CaseOut, CasePage, CaseStats, IsoDate
from api.cases.service import CaseStatus
from api.deps import SessionDep
from api.openapi import problem_responses

router = APIRouter(prefix="/apps/{app}/cases", tags=["cases"])


@router.get("", response_model=CasePage, responses=problem_responses(401, 404))
async def list_cases(
    access: AppAccessDep,
    session: SessionDep,
    status: CaseStatus | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    opened_from: IsoDate | None = None,
    opened_to: IsoDate | None = None,
    sort: SortKey = "tag_id",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> CasePage:
    """The Cases dashboard: filter by status, text (in tag_id and about) and opening dates."""
    page = await service.list_cases(
        session,
        access.app_id,
        status=status,
        q=q,
        opened_from=opened_from,
        opened_to=opened_to,
        sort=sort,
        limit=limit,
        cursor=cursor,
    )
    return CasePage(items=[case_out(c) for c in page.items], next_cursor=page.next_cursor)


@router.get("/stats", response_model=CaseStats, responses=problem_responses(401, 404))
async def case_stats(access: AppAccessDep, session: SessionDep) -> CaseStats:
    counts = await service.case_counts(session, access.app_id)
    return CaseStats(total=counts.total, active=counts.active, closed=counts.closed)


@router.get("/{tag_id}", response_model=CaseOut, responses=problem_responses(401, 404))
async def get_case(tag_id: str, access: AppAccessDep, session: SessionDep) -> CaseOut:
    """One case by its tag_id, in any letter case."""
    return case_out(await service.get_case(session, access.app_id, tag_id))
