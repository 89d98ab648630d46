"""Opening an import's event stream: who may follow it, and the state it starts from.

The stream's one read of the database is here, made in the request's session (released before
the stream is sent: an open stream holds no pooled connection). The subscription is taken
before that read, so a change committed between the two is not missed: either the read sees
it, or its notice arrives after the subscription.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.principal import AppAccess
from api.errors import ServiceUnavailable
from api.events.broker import Broker, Subscription
from api.events.snapshot import Version, parse_event_id
from api.imports import service as imports

# A stream refused now may be opened a moment later (another process, or fewer streams).
RETRY_AFTER_SECONDS = 5


@dataclass(frozen=True, slots=True)
class Opened:
    """The stream to send; ``subscription`` is None when the client has seen the import's
    final state already (``Last-Event-ID``): nothing will follow."""

    subscription: Subscription | None
    seen: Version | None


async def open_stream(
    session: AsyncSession,
    access: AppAccess,
    broker: Broker,
    import_id: uuid.UUID,
    last_event_id: str | None,
) -> Opened:
    if broker.closing or broker.streams >= broker.max_streams:
        raise ServiceUnavailable(
            "This server follows as many imports as it can; try again in a moment.",
            code="too_many_streams",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    subscription = broker.subscribe(import_id)
    try:
        view = await imports.get_import(session, access, import_id)
    except BaseException:
        broker.unsubscribe(subscription)
        raise
    broker.found(subscription, access.app_id, view)
    seen = parse_event_id(last_event_id)
    latest = subscription.latest
    if latest is not None and latest.finished and not latest.newer_than(seen):
        broker.unsubscribe(subscription)
        return Opened(None, seen)
    return Opened(subscription, seen)
