from __future__ import annotations

from fastapi import APIRouter

from api.apps.deps import AppAccessDep
from api.deps import SessionDep
from api.mappings import service
from api.mappings.schemas import ColumnMappingOut
from api.openapi import problem_responses

router = APIRouter(tags=["import types"])


@router.get(
    "/apps/{app}/import-types/{key}/mapping",
    response_model=ColumnMappingOut,
    responses=problem_responses(401, 404, s404="no such app, or no such import type"),
)
async def last_mapping(key: str, access: AppAccessDep, session: SessionDep) -> ColumnMappingOut:
    """The column mapping the app's latest import of this type used, to offer it again."""
    return ColumnMappingOut(columns=await service.last_mapping(session, access, key))
