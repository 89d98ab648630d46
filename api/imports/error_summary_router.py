from __future__ import annotations

import uuid

from fastapi import APIRouter

from api.apps.deps import AppAccessDep
from api.deps import SessionDep
from api.imports.error_summary import error_summary
from api.imports.schemas import ErrorGroupOut, ErrorGroupsOut
from api.openapi import problem_responses

router = APIRouter(prefix="/apps/{app}/imports", tags=["imports"])


@router.get(
    "/{import_id}/errors/summary",
    response_model=ErrorGroupsOut,
    responses=problem_responses(401, 404),
)
async def get_error_summary(
    import_id: uuid.UUID, access: AppAccessDep, session: SessionDep
) -> ErrorGroupsOut:
    """Every error of the import grouped by code and column, most frequent first: how many,
    and the first line and message of each group."""
    counts = await error_summary(session, access, import_id)
    return ErrorGroupsOut(
        error_count=counts.error_count or 0,
        error_rows=counts.error_rows or 0,
        groups=[ErrorGroupOut.model_validate(g) for g in counts.error_groups or ()],
    )
