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
from api.auth import service as auth_service
from api.auth.deps import PrincipalDep
from api.auth.principal import Principal
from api.deps import SessionDep
from api.errors import Forbidden

router = APIRouter(tags=["apps"])


def _app_out(app: AppSummary) -> AppOut:
    return AppOut(
        slug=app.slug,
        name=app.name,
        role=app.role,
        cases=CaseCounts(total=app.total, active=app.active, closed=app.closed),
    )


def _require_session(principal: Principal, action: str) -> None:
    # A token is for one app's scripts. Letting it mint tokens or make apps would turn one leaked
    # token into a lasting foothold (new tokens survive revoking the leaked one).
    if principal.via != "session":
        raise Forbidden(f"Sign in to {action}: API tokens cannot do it.", code="session_required")


@router.get("/apps", responses={401: {}})
async def list_apps(principal: PrincipalDep, session: SessionDep) -> AppList:
    apps = await service.visible_apps(session, principal)
    return AppList(items=[_app_out(app) for app in apps])


@router.post("/apps", status_code=201, responses={401: {}, 403: {}, 409: {}, 422: {}})
async def create_app(body: AppCreate, principal: PrincipalDep, session: SessionDep) -> AppOut:
    _require_session(principal, "create an app")
    if not principal.is_owner:
        raise Forbidden("Only an owner may create apps.", code="owner_required")
    app = await service.create_app(session, body.slug, body.name)
    return _app_out(AppSummary(app.slug, app.name, "admin", total=0, active=0, closed=0))


@router.get("/apps/{app}", responses={401: {}, 404: {}})
async def get_app(access: AppAccessDep, session: SessionDep) -> AppOut:
    # app_access has checked that the caller may see it, so the narrowed list holds it.
    (app,) = await service.visible_apps(session, access.principal, slug=access.slug)
    return _app_out(app)


@router.get("/apps/{app}/tokens", responses={401: {}, 403: {}, 404: {}})
async def list_tokens(access: AdminAccessDep, session: SessionDep) -> TokenList:
    tokens = await auth_service.list_tokens(session, access.app_id)
    return TokenList(items=[TokenOut.model_validate(t, from_attributes=True) for t in tokens])


@router.post("/apps/{app}/tokens", status_code=201, responses={401: {}, 403: {}, 404: {}})
async def create_token(
    body: TokenCreate, access: AdminAccessDep, session: SessionDep
) -> TokenCreated:
    _require_session(access.principal, "create API tokens")
    token, secret = await auth_service.create_token(
        session, access.principal.user_id, access.app_id, body.name, body.expires_days
    )
    return TokenCreated(
        id=token.id,
        name=token.name,
        token=secret,
        prefix=token.prefix,
        created_at=token.created_at,
        expires_at=token.expires_at,
    )


@router.delete(
    "/apps/{app}/tokens/{token_id}", status_code=204, responses={401: {}, 403: {}, 404: {}}
)
async def revoke_token(
    token_id: uuid.UUID, access: AdminAccessDep, session: SessionDep
) -> Response:
    await auth_service.revoke_token(session, access.app_id, token_id)
    return Response(status_code=204)
