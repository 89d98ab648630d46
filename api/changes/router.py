from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.apps.deps import AppAccessDep
from api.changes import service
from api.changes.actions import ChangeAction
from api.changes.presenter import change_out, history_entry_out
from api.changes.schemas import CaseHistoryOut, ChangePage
from api.deps import SessionDep
from api.openapi import problem_responses

router = APIRouter(prefix="/apps/{app}", tags=["changes"])

ActionFilter = Literal["create", "update", "unchanged", "failed", "delete"]


@router.get(
    "/imports/{import_id}/changes", response_model=ChangePage, responses=problem_responses(401, 404)
)
async def list_changes(
    import_id: uuid.UUID,
    access: AppAccessDep,
    session: SessionDep,
    action: ActionFilter | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> ChangePage:
    """Row by row, what the import did to the cases (or, checked only, would do)."""
    page = await service.changes_page(
        session,
        access,
        import_id,
        action=ChangeAction.from_word(action) if action else None,
        limit=limit,
        cursor=cursor,
    )
    return ChangePage(items=[change_out(r) for r in page.items], next_cursor=page.next_cursor)


@router.get(
    "/cases/{tag_id}/history",
    response_model=CaseHistoryOut,
    responses=problem_responses(401, 404),
)
async def case_history(tag_id: str, access: AppAccessDep, session: SessionDep) -> CaseHistoryOut:
    """Every import that created or changed the case, newest first, with what it did."""
    shown_tag, rows = await service.case_history(session, access, tag_id)
    return CaseHistoryOut(tag_id=shown_tag, items=[history_entry_out(r) for r in rows])
