from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request, Response

from api.apps.deps import AppAccessDep
from api.deps import SessionDep, SettingsDep
from api.events import service
from api.events.broker import Broker
from api.events.stream import EventStream
from api.openapi import problem_responses

router = APIRouter(prefix="/apps/{app}/imports", tags=["imports"])


async def _admitted(request: Request) -> AsyncIterator[None]:
    """Streams being opened take turns for their database work, a pool's worth at a time. When
    hundreds of clients reconnect at once (an API process restarted), the others wait here
    with a request's small state, not inside SQLAlchemy, where each waiting session would hold
    a greenlet's stack: the memory of that burst was most of the API's growth under 500
    streams (docs/performance.md)."""
    broker: Broker = request.app.state.events.broker
    async with broker.opening:
        yield


# One event of the stream (OpenAPI 3.2's description of server-sent events: a schema per event).
_EVENT = {
    "type": "object",
    "required": ["event", "data", "id"],
    "properties": {
        "event": {"type": "string", "enum": ["status", "progress"]},
        "data": {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": "#/components/schemas/ImportOut"},
        },
        "id": {"type": "string", "pattern": r"^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$"},
        "retry": {"type": "integer", "minimum": 0},
    },
}

_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "events `status` and `progress`, each with an `id` and the import object "
        "as `data`; a `: keep-alive` comment when idle; it ends after a finished status",
        "content": {"text/event-stream": {"schema": _EVENT}},
    },
    204: {"description": "the `Last-Event-ID` is the import's final state: nothing will follow"},
    **problem_responses(
        401,
        404,
        422,
        503,
        s404="no such app for the caller (app_not_found), or no such import in it "
        "(import_not_found)",
        s422="an import id that is not a UUID, or a Last-Event-ID over 100 characters",
        s503="the process serves as many streams as it may, or is stopping (too_many_streams, "
        "Retry-After); or the database cannot be reached for a moment",
    ),
}


# The class names the media type in the OpenAPI document; FastAPI's EventSourceResponse would
# make FastAPI run the handler as its own generator of events.
@router.get("/{import_id}/events", response_class=EventStream, status_code=200, responses=_ANSWERS)
async def import_events(
    import_id: uuid.UUID,
    request: Request,
    # Before the dependencies that reach the database.
    _turn: Annotated[None, Depends(_admitted, scope="function")],
    access: AppAccessDep,
    session: SessionDep,
    settings: SettingsDep,
    last_event_id: Annotated[str | None, Header(max_length=100)] = None,
) -> Response:
    """Server-sent events of the import's status and progress: its current state first, then
    each change (docs/api.md, "Events of an import")."""
    broker: Broker = request.app.state.events.broker
    opened = await service.open_stream(session, access, broker, import_id, last_event_id)
    if opened.subscription is None:
        return Response(status_code=204)
    return EventStream(
        broker,
        opened.subscription,
        opened.seen,
        heartbeat_seconds=settings.events_heartbeat_seconds,
    )
