from __future__ import annotations

from fastapi import APIRouter, Depends, Request, Response

from api.deps import InFlightDep, SessionDep, SettingsDep
from api.errors import Unauthorized
from api.metrics import service, token
from api.openapi import problem_responses

router = APIRouter(tags=["health"])


async def _token_checked(request: Request, settings: SettingsDep) -> None:
    if not token.authorized(request.headers.get("authorization"), settings.metrics_token):
        raise Unauthorized(token.DETAIL, headers={"WWW-Authenticate": token.CHALLENGE})


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {}}},
        **problem_responses(
            401,
            503,
            s401="CASEIMPORT_METRICS_TOKEN is set and the request does not carry it as its "
            "bearer token (unauthenticated)",
        ),
    },
    dependencies=[Depends(_token_checked)],
)
async def metrics(session: SessionDep, in_flight: InFlightDep, settings: SettingsDep) -> Response:
    """Prometheus metrics: this process's HTTP requests, uploads in flight and process
    figures, and the imports by type and status, queued and running, read from the database.
    Needs ``Authorization: Bearer`` with CASEIMPORT_METRICS_TOKEN when that is set."""
    text = await service.exposition(session, in_flight.total(), settings.worker_lease_seconds)
    return Response(text, media_type=service.CONTENT_TYPE)
