"""405 for a wrong method on an existing path, with ``Allow`` naming every method it has.

Starlette's own 405 names only the methods of the first route of that path, while a path has a
route per method here (``GET`` and ``POST /api/apps``).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match, Mount

from api.problems import problem

_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route takes at this path (mounts, which take any, left out)."""
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return [
        method
        for method in _METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


def install_allow(app: FastAPI) -> None:
    async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        # A mounted app's own 405 (the SPA's files) keeps the methods it named.
        allow = ", ".join(allowed_methods(request)) or (exc.headers or {}).get("Allow", "")
        return problem(
            405,
            "method_not_allowed",
            f"{request.method} is not allowed here; this path takes {allow}.",
            headers={"Allow": allow},
        )

    app.add_exception_handler(405, method_not_allowed)
