from __future__ import annotations

import uuid

from fastapi import APIRouter, Response

from api.apps import service
from api.apps.deps import AdminAccessDep, AppAccessDep
from api.apps.schemas import (
    AppCreate,
    AppList,
    AppOut,
    CaseCounts,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenOut,
)
from api.apps.service import AppSummary
from api.auth.deps import PrincipalDep
from api.deps import SessionDep
from api.openapi import problem_responses

router = APIRouter(tags=["apps"])


def _app_out(app: AppSummary) -> AppOut:
    return AppOut(
        slug=app.slug,
        name=app.name,
        role=app.role,
        cases=CaseCounts(total=app.total, active=app.active, closed=app.closed),
    )


@router.get("/apps", responses=problem_responses(401))
async def list_apps(principal: PrincipalDep, session: SessionDep) -> AppList:
    apps = await service.visible_apps(session, principal)
    return AppList(items=[_app_out(app) for app in apps])


@router.post(
    "/apps",
    status_code=201,
    responses=problem_responses(
        401,
        403,
        409,
        422,
        s403="not an owner, or not signed in: a token cannot (owner_required, session_required)",
        s409="the slug is taken (app_exists)",
        s422="the slug or the name is not valid (invalid_slug, invalid_name, invalid_request)",
    ),
)
async def create_app(body: AppCreate, principal: PrincipalDep, session: SessionDep) -> AppOut:
    return _app_out(await service.create_app_as(session, principal, body.slug, body.name))


@router.get("/apps/{app}", responses=problem_responses(401, 404))
async def get_app(access: AppAccessDep, session: SessionDep) -> AppOut:
    return _app_out(await service.app_summary(session, access))


@router.get("/apps/{app}/tokens", responses=problem_responses(401, 403, 404))
async def list_tokens(access: AdminAccessDep, session: SessionDep) -> TokenList:
    tokens = await service.app_tokens(session, access)
    return TokenList(items=[TokenOut.model_validate(t, from_attributes=True) for t in tokens])


@router.post(
    "/apps/{app}/tokens",
    status_code=201,
    responses=problem_responses(
        401, 403, 404, s403="not an admin of the app, or not signed in: a token cannot"
    ),
)
async def create_token(
    body: TokenCreate, access: AdminAccessDep, session: SessionDep
) -> TokenCreated:
    token, secret = await service.create_app_token(session, access, body.name, body.expires_days)
    return TokenCreated(
        id=token.id,
        name=token.name,
        token=secret,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
    )


@router.delete(
    "/apps/{app}/tokens/{token_id}", status_code=204, responses=problem_responses(401, 403, 404)
)
async def revoke_token(
    token_id: uuid.UUID, access: AdminAccessDep, session: SessionDep
) -> Response:
    await service.revoke_app_token(session, access, token_id)
    return Response(status_code=204)
