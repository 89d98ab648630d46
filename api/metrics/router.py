from __future__ import annotations

from fastapi import APIRouter, Response
from sqlalchemy import func, select

from api.deps import SessionDep
from api.imports.models import Import
from api.metrics.registry import render

router = APIRouter(tags=["health"])


@router.get("/metrics", response_class=Response, responses={200: {"content": {"text/plain": {}}}})
async def metrics(session: SessionDep) -> Response:
    """Prometheus metrics: HTTP requests of this process, and imports by type and status."""
    rows = await session.execute(
        select(Import.type, Import.status, func.count()).group_by(Import.type, Import.status)
    )
    body = render((t, s, int(n)) for t, s, n in rows.all())
    return Response(body, media_type="text/plain; version=0.0.4")
