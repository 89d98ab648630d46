from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.health.service import readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "a dependency is down"}})
async def readyz(request: Request) -> JSONResponse:
    """Readiness: PostgreSQL and Redis both answer."""
    found = await readiness(request.app.state.engine, request.app.state.redis)
    return JSONResponse(
        {"status": "ok" if found.ready else "unavailable", "checks": found.checks},
        status_code=200 if found.ready else 503,
    )
