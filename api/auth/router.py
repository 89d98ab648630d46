from __future__ import annotations

from fastapi import APIRouter, Request, Response

from api.auth import service
from api.auth.account import Account, account_of
from api.auth.deps import SESSION_COOKIE, PrincipalDep, SameOriginDep, client_address
from api.auth.schemas import LoginIn, UserApp, UserOut
from api.config import Settings
from api.deps import SessionDep, SettingsDep
from api.openapi import problem_responses

router = APIRouter(prefix="/auth", tags=["auth"])


def _secure(request: Request, settings: Settings) -> bool:
    public = settings.public_origin or ""
    return request.url.scheme == "https" or public.startswith("https://")


def _user_out(found: Account) -> UserOut:
    return UserOut(
        email=found.email,
        is_owner=found.is_owner,
        apps=[UserApp(slug=a.slug, name=a.name, role=a.role) for a in found.apps],
    )


# The Origin check on login stops login CSRF: another site signing the browser in to an account
# of the attacker's, whose imports the victim would then upload into.
@router.post(
    "/login",
    dependencies=[SameOriginDep],
    responses=problem_responses(
        401,
        403,
        429,
        503,
        s401="wrong email or password (invalid_credentials)",
        s403="sent by another site (foreign_origin)",
        s429="too many failed sign-ins from this address (too_many_attempts, Retry-After)",
    ),
)
async def login(
    body: LoginIn,
    request: Request,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
) -> UserOut:
    principal, value = await service.sign_in(
        session,
        body.email,
        body.password,
        client_address(request),
        settings,
        previous=request.cookies.get(SESSION_COOKIE),
    )
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings.session_hours * 3600,
        path="/",
        secure=_secure(request, settings),
        httponly=True,
        samesite="strict",
    )
    return _user_out(await account_of(session, principal))


@router.post("/logout", status_code=204, responses=problem_responses(401, 403))
async def logout(
    request: Request, principal: PrincipalDep, session: SessionDep, settings: SettingsDep
) -> Response:
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        await service.end_session(session, cookie)
    response = Response(status_code=204)
    response.delete_cookie(
        SESSION_COOKIE,
        path="/",
        secure=_secure(request, settings),
        httponly=True,
        samesite="strict",
    )
    return response


@router.get("/me", responses=problem_responses(401))
async def me(principal: PrincipalDep, session: SessionDep) -> UserOut:
    return _user_out(await account_of(session, principal))
