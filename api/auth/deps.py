"""Who is calling: a bearer token, else the session cookie; and the cookie's CSRF guard."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from api.auth import service
from api.auth.principal import Principal
from api.config import Settings
from api.deps import SessionDep, SettingsDep
from api.errors import Forbidden, Unauthorized
from api.logs import bind

SESSION_COOKIE = "caseimport_session"
# Declared for the OpenAPI document (securitySchemes, and security on every operation that needs
# a caller); the checks below read the headers themselves, so neither refuses anything.
BEARER = HTTPBearer(
    scheme_name="bearer",
    description="An API token: `Authorization: Bearer <token>` (POST /api/apps/{app}/tokens).",
    auto_error=False,
)
SESSION = APIKeyCookie(
    name=SESSION_COOKIE,
    scheme_name="session",
    description="The SPA's session cookie, set by POST /api/auth/login.",
    auto_error=False,
)
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` in a canonical form (lower case, default port dropped)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if not scheme or not host:
        return None
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _own_origin(request: Request, settings: Settings) -> str | None:
    if settings.public_origin:
        return _origin(settings.public_origin)
    # Behind a proxy that terminates TLS, this is right only when the server trusts the proxy's
    # forwarded headers (CASEIMPORT_TRUSTED_PROXIES); otherwise set CASEIMPORT_PUBLIC_ORIGIN.
    host = request.headers.get("host", request.url.netloc)
    return _origin(f"{request.url.scheme}://{host}")


def require_same_origin(request: Request, settings: SettingsDep) -> None:
    """Refuse a browser request sent by another site (CSRF, login CSRF).

    Browsers send ``Origin`` on every POST, PUT, PATCH and DELETE, and ``Sec-Fetch-Site`` where
    they support it; when there is no ``Origin``, a ``Referer`` is checked instead. A request with
    neither does not come from a web page (curl, a script) and cannot be a forged one. Only
    ``cross-site`` is refused outright: ``same-site`` is how the SPA looks when it is served from
    a sibling host named in CASEIMPORT_PUBLIC_ORIGIN, and the Origin comparison decides then.
    """
    if request.headers.get("sec-fetch-site", "").lower() == "cross-site":
        raise _foreign()
    sent = request.headers.get("origin") or request.headers.get("referer")
    if sent is None:
        return
    # "null" (sandboxed frames, file: pages) parses to no origin, and is refused like a foreign one.
    if _origin(sent) != _own_origin(request, settings):
        raise _foreign()


def _foreign() -> Forbidden:
    return Forbidden(
        "This request came from another site, and signed-in requests are only accepted from"
        " this site's own pages.",
        code="foreign_origin",
    )


def client_address(request: Request) -> str:
    """The peer, or the client a trusted proxy names (CASEIMPORT_TRUSTED_PROXIES, api/main.py)."""
    return request.client.host if request.client else "unknown"


def bearer_token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip()


async def current_principal(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)],
    _cookie: Annotated[str | None, Security(SESSION)],
) -> Principal:
    """The caller, from ``Authorization: Bearer`` first, else the session cookie; or 401.

    A request with a bearer token is judged by the token alone: a bad one is refused, not tried
    again with a cookie, so a script with a wrong token hears about it.
    """
    token = bearer_token(request)
    if token is not None:
        principal = await service.principal_from_token(session, token, client_address(request))
        if principal is None:
            raise Unauthorized(
                "The API token is not valid: it may be mistyped, expired or revoked.",
                code="unauthenticated",
            )
        # No Origin check: a browser never attaches a token by itself, so a token cannot be forged
        # into a request by another site.
        bind(user_id=principal.user_id, token_id=principal.token_id)
        return principal

    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        if request.method in UNSAFE_METHODS:
            require_same_origin(request, settings)
        principal = await service.principal_from_session(session, cookie, client_address(request))
        if principal is not None:
            bind(user_id=principal.user_id)
            return principal
    raise Unauthorized(
        "Sign in, or send an API token as 'Authorization: Bearer <token>'.",
        code="unauthenticated",
    )


PrincipalDep = Annotated[Principal, Depends(current_principal)]


async def same_origin(request: Request, settings: SettingsDep) -> None:
    """``require_same_origin`` as a dependency (async: no thread hop)."""
    require_same_origin(request, settings)


SameOriginDep = Depends(same_origin)
