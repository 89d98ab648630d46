"""The outbox: events written in the transaction of the change they tell of, one delivery row
per subscribed endpoint, for the worker to send (worker/webhooks.py). A change that commits
has its deliveries; one that rolls back has none.

The lifecycle calls ``import_finished`` from each transition to a finished state, on its
asyncpg connection; the API's transitions pass their session's own connection
(``connection_of``), so the same code serves both.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from api.imports import repository
from api.imports.presenter import import_out
from api.imports.status import ImportStatus
from api.pg import Connection
from api.webhooks.events import FINISHED_EVENT, EventType

# The endpoints of the import's app that want this event; usually none, and then nothing more
# is read or written.
_SUBSCRIBED = """
    SELECT e.id, e.app_id FROM imports i JOIN webhook_endpoints e ON e.app_id = i.app_id
    WHERE i.id = $1 AND e.active AND $2 = ANY(e.events)
"""
_EVENT = (
    "INSERT INTO webhook_events (id, app_id, type, body, created_at) VALUES ($1, $2, $3, $4, $5)"
)
_DELIVERIES = """
    INSERT INTO webhook_deliveries (event_id, endpoint_id) SELECT $1, unnest($2::uuid[])
"""


async def connection_of(session: AsyncSession) -> Connection:
    """The asyncpg connection under the session, inside the session's transaction."""
    raw = await (await session.connection()).get_raw_connection()
    driver = raw.driver_connection
    assert isinstance(driver, asyncpg.Connection)
    assert driver.is_in_transaction()
    return driver


async def import_finished(
    conn: Connection, import_id: uuid.UUID, status: ImportStatus, revert_of: uuid.UUID | None
) -> None:
    """The event of an import that just finished; a completed revert also tells that the
    import it reverted is reverted."""
    event = FINISHED_EVENT.get(status)
    if event is not None:
        await import_event(conn, import_id, event)
    if status == ImportStatus.COMPLETED and revert_of is not None:
        await import_event(conn, revert_of, EventType.IMPORT_REVERTED)


async def import_event(conn: Connection, import_id: uuid.UUID, event: EventType) -> None:
    """``event`` of the import, as it is now in this transaction, for every endpoint of its
    app that subscribes to it."""
    endpoints = await conn.fetch(_SUBSCRIBED, import_id, event.value)
    if not endpoints:
        return
    view = await repository.view_on(conn, import_id)
    assert view is not None
    data = {"import": import_out(view).model_dump(mode="json")}
    await write(conn, endpoints[0]["app_id"], event.value, data, [e["id"] for e in endpoints])


async def write(
    conn: Connection,
    app_id: uuid.UUID,
    event_type: str,
    data: Mapping[str, Any],
    endpoint_ids: Sequence[uuid.UUID],
) -> uuid.UUID:
    """An event with its body, due at once to each endpoint; answers the event's id."""
    event_id, created_at = uuid.uuid4(), datetime.now(UTC)
    body = {
        "id": str(event_id),
        "type": event_type,
        "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
    await conn.execute(_EVENT, event_id, app_id, event_type, text, created_at)
    await conn.execute(_DELIVERIES, event_id, list(endpoint_ids))
    return event_id
