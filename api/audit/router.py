from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.apps.deps import AdminAccessDep
from api.audit import reading
from api.audit.actions import AuditAction
from api.audit.schemas import AuditEventOut, AuditPage
from api.auth.deps import PrincipalDep
from api.deps import SessionDep
from api.openapi import problem_responses
from api.paging import Page

router = APIRouter(tags=["audit"])

Limit = Annotated[int, Query(ge=1, le=500)]


def _page_out(page: Page[reading.Entry]) -> AuditPage:
    return AuditPage(
        items=[AuditEventOut.model_validate(e, from_attributes=True) for e in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/apps/{app}/audit", responses=problem_responses(401, 403, 404))
async def app_audit(
    access: AdminAccessDep,
    session: SessionDep,
    action: AuditAction | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> AuditPage:
    """Who did what in the app, when, from where: newest first (admins)."""
    page = await reading.app_log(session, access, action=action, limit=limit, cursor=cursor)
    return _page_out(page)


@router.get(
    "/audit",
    responses=problem_responses(
        401, 403, s403="not an owner, or not signed in: a token cannot read the whole log"
    ),
)
async def full_audit(
    principal: PrincipalDep,
    session: SessionDep,
    action: AuditAction | None = None,
    limit: Limit = 50,
    cursor: str | None = None,
) -> AuditPage:
    """Every event, sign-ins included: newest first (owners, signed in)."""
    page = await reading.full_log(session, principal, action=action, limit=limit, cursor=cursor)
    return _page_out(page)
