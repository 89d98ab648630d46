"""The notice an import's transition sends to the API processes that stream its events.

One PostgreSQL channel for every import: ``pg_notify`` in the transition's own transaction, so
a listener hears of a change only once it is committed, and never of one rolled back. A notice
names the import; a beat's also carries its progress, which is all a stream needs of it, so
the most frequent change costs the listening processes no query (``api/events/broker.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.imports.status import ImportStatus
from api.pg import Connection

CHANNEL = "caseimport_import_events"


@dataclass(frozen=True, slots=True)
class Beat:
    """A running attempt's progress, as its heartbeat wrote it."""

    attempt: int
    status: ImportStatus
    rows: int
    bytes: int


@dataclass(frozen=True, slots=True)
class Notice:
    import_id: uuid.UUID
    beat: Beat | None = None


def payload(import_id: uuid.UUID, beat: Beat | None = None) -> str:
    if beat is None:
        return str(import_id)
    return f"{import_id} {beat.attempt} {beat.status.value} {beat.rows} {beat.bytes}"


def parse(text_: str) -> Notice | None:
    """The notice, or None for a payload this version does not read (a newer sender's)."""
    parts = text_.split(" ")
    try:
        import_id = uuid.UUID(parts[0])
        if len(parts) == 1:
            return Notice(import_id)
        attempt, status, rows, bytes_ = parts[1:]
        return Notice(import_id, Beat(int(attempt), ImportStatus(status), int(rows), int(bytes_)))
    except ValueError:
        return None


_NOTIFY_SQL = text("SELECT pg_notify(:channel, :payload)")
# A transition's own ``RETURNING`` item: the notice goes with the row it changed, if any.
NOTIFIED = f"pg_notify('{CHANNEL}', {{payload}}::text) AS notified"


async def notify(
    conn: Connection | AsyncSession, import_id: uuid.UUID, beat: Beat | None = None
) -> None:
    """Announce that the import changed, when ``conn``'s transaction commits (at once for a
    statement outside one)."""
    message = payload(import_id, beat)
    if isinstance(conn, AsyncSession):
        await conn.execute(_NOTIFY_SQL, {"channel": CHANNEL, "payload": message})
    else:
        await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, message)
