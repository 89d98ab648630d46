"""Reading an endpoint's deliveries, newest first, each with its attempts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.principal import AppAccess
from api.paging import Page, bigint_key, decode_cursor, page_of
from api.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEvent
from api.webhooks.service import get_endpoint


@dataclass(frozen=True, slots=True)
class Attempt:
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass(frozen=True, slots=True)
class Event:
    id: uuid.UUID
    type: str
    created_at: datetime


@dataclass(slots=True)
class Delivery:
    id: int
    event: Event
    state: str
    attempt_count: int
    next_attempt_at: datetime | None
    created_at: datetime
    finished_at: datetime | None
    attempts: list[Attempt] = field(default_factory=list)


async def deliveries(
    session: AsyncSession,
    access: AppAccess,
    endpoint_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> Page[Delivery]:
    await get_endpoint(session, access, endpoint_id)
    d, e = WebhookDelivery, WebhookEvent
    query = (
        select(d.id, e.id, e.type, e.created_at, d.state, d.attempts, d.next_attempt_at)
        .add_columns(d.created_at, d.finished_at)
        .join(e, e.id == d.event_id)
        .where(d.endpoint_id == endpoint_id)
        .order_by(d.id.desc())
        .limit(limit + 1)
    )
    if cursor:
        (after,) = decode_cursor(cursor, bigint_key)
        query = query.where(d.id < after)
    rows = [
        Delivery(
            id=row[0],
            event=Event(row[1], row[2], row[3]),
            state=row[4],
            attempt_count=row[5],
            next_attempt_at=row[6] if row[4] == "pending" else None,
            created_at=row[7],
            finished_at=row[8],
        )
        for row in await session.execute(query)
    ]
    page = page_of(rows, limit, lambda last: [last.id])
    by_id = {delivery.id: delivery for delivery in page.items}
    a = WebhookAttempt
    found = await session.execute(
        select(a.delivery_id, a.at, a.status_code, a.error, a.duration_ms)
        .where(a.delivery_id.in_(list(by_id)))
        .order_by(a.id)
    )
    for row in found:
        by_id[row.delivery_id].attempts.append(
            Attempt(row.at, row.status_code, row.error, row.duration_ms)
        )
    return page
