from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import SessionDep
from api.metrics import service

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(session: SessionDep) -> Response:
    """Prometheus metrics: HTTP requests of this process, and imports by type and status."""
    return Response(await service.exposition(session), media_type="text/plain; version=0.0.4")
