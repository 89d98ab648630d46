"""Applying a plan, checking a check's file again and reverting an import: each answers the new
import it queued."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from api.apps.deps import AppAccessDep
from api.deps import RedisDep, SessionDep
from api.imports import derived
from api.imports.presenter import import_out
from api.imports.schemas import ImportOut
from api.openapi import problem_responses

router = APIRouter(prefix="/apps/{app}/imports/{import_id}", tags=["imports"])

Name = Annotated[str, Field(min_length=1, max_length=200)]
_REFUSALS = problem_responses(
    401,
    403,
    404,
    s403="viewers cannot change imports (admin_required)",
    s404="no such app, or no such import in it",
)


class ApplyIn(BaseModel):
    name: Name | None = None


class CheckAgainIn(BaseModel):
    name: Name | None = None


class RevertIn(BaseModel):
    name: Name | None = None
    # fail: any case changed since makes the revert fail whole; skip: revert the others.
    on_error: Literal["fail", "skip"] = "fail"


@router.post(
    "/apply",
    status_code=201,
    response_model=ImportOut,
    responses={
        **_REFUSALS,
        **problem_responses(409, s409="not a plan, applied already, or stale (plan_stale)"),
    },
)
async def apply_plan(
    import_id: uuid.UUID,
    access: AppAccessDep,
    session: SessionDep,
    redis: RedisDep,
    body: ApplyIn | None = None,
) -> ImportOut:
    """Apply a completed check-only import exactly as it was checked, without another upload:
    409 ``plan_stale`` (naming the first case) when a case it touches changed since."""
    view = await derived.apply_plan(
        session, access, import_id, name=body.name if body else None, redis=redis
    )
    return import_out(view)


@router.post(
    "/check-again",
    status_code=201,
    response_model=ImportOut,
    responses={
        **_REFUSALS,
        **problem_responses(
            409,
            s409="not a finished check (not_a_plan), its file purged (file_purged), or the "
            "name taken (name_taken)",
        ),
    },
)
async def check_again(
    import_id: uuid.UUID,
    access: AppAccessDep,
    session: SessionDep,
    redis: RedisDep,
    body: CheckAgainIn | None = None,
) -> ImportOut:
    """Check a check-only import's stored file again, without another upload: a new check-only
    import of the same file (shared, not copied), type, options and column mapping, named
    "<name> (checked again)" unless named; its ``checks_again`` names the source."""
    view = await derived.check_again(
        session, access, import_id, name=body.name if body else None, redis=redis
    )
    return import_out(view)


@router.post(
    "/revert",
    status_code=201,
    response_model=ImportOut,
    responses={
        **_REFUSALS,
        **problem_responses(409, s409="not revertible, or reverted already"),
    },
)
async def revert_import(
    import_id: uuid.UUID,
    access: AppAccessDep,
    session: SessionDep,
    redis: RedisDep,
    body: RevertIn | None = None,
) -> ImportOut:
    """Queue a revert: the cases the import created are deleted and the fields it changed put
    back, all or nothing; cases changed again since are conflicts (``on_error``)."""
    options = body or RevertIn()
    view = await derived.revert_import(
        session, access, import_id, name=options.name, on_error=options.on_error, redis=redis
    )
    return import_out(view)
