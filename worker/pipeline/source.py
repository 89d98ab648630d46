"""Reading a stored upload back, one chunk at a time, so memory stays flat."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

from api.pg import Connection


async def file_chunks(conn: Connection, file_id: uuid.UUID) -> AsyncIterator[bytes]:
    # One short query per chunk rather than a cursor, which would hold a transaction open on
    # this connection for the whole read.
    fetch = await conn.prepare("SELECT data FROM file_chunks WHERE file_id = $1 AND seq = $2")
    seq = 0
    while True:
        data = await fetch.fetchval(file_id, seq)
        if data is None:
            return
        yield bytes(data)
        seq += 1
