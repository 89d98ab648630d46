from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import InFlightDep, SessionDep
from api.metrics import service

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(session: SessionDep, in_flight: InFlightDep) -> Response:
    """Prometheus metrics: HTTP requests and uploads in flight of this process, and imports by
    type and status."""
    text = await service.exposition(session, in_flight.total())
    return Response(text, media_type="text/plain; version=0.0.4")
