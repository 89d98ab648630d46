"""Uploaded files in PostgreSQL, in fixed-size chunks, so any worker on any machine reads them.

Object storage could replace this later behind the same small functions.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.imports.models import FileChunk, StoredFile

MAX_FILENAME = 255


class HashingSink:
    """Reads a file part to learn its size and SHA-256 without keeping it (idempotent replays)."""

    def __init__(self) -> None:
        self.filename = ""
        self.size_bytes = 0
        self._hash = hashlib.sha256()

    async def begin(self, filename: str) -> None:
        self.filename = filename[-MAX_FILENAME:] or "upload.csv"

    async def write(self, data: bytes) -> None:
        self.size_bytes += len(data)
        self._hash.update(data)

    async def end(self) -> None:
        return None

    @property
    def sha256(self) -> str:
        return self._hash.hexdigest()


async def store_file(
    session: AsyncSession,
    *,
    filename: str,
    size_bytes: int,
    sha256: str,
    chunks: AsyncIterator[bytes],
) -> uuid.UUID:
    """Writes a received file into ``files`` and ``file_chunks``; answers its id."""
    file_id = uuid.uuid4()
    await session.execute(
        insert(StoredFile).values(
            id=file_id, filename=filename, size_bytes=size_bytes, sha256=sha256
        )
    )
    seq = 0
    async for data in chunks:
        await session.execute(insert(FileChunk).values(file_id=file_id, seq=seq, data=data))
        seq += 1
    return file_id


async def stored_chunks(
    sessions: async_sessionmaker[AsyncSession], file_id: uuid.UUID
) -> AsyncIterator[bytes]:
    """A stored file's bytes in order, each chunk read in a session of its own: a slow download
    holds no database connection between chunks. Ends early if the file is purged meanwhile;
    the download's Content-Length then tells its client that it is incomplete."""
    seq = 0
    while True:
        async with sessions() as session:
            data = await session.scalar(
                select(FileChunk.data).where(FileChunk.file_id == file_id, FileChunk.seq == seq)
            )
        if data is None:
            return
        yield data
        seq += 1
