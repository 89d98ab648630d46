"""Uploaded files in PostgreSQL, in fixed-size chunks, so any worker on any machine reads them.

Object storage could replace this later behind the same two small classes.
"""

from __future__ import annotations

import hashlib
import uuid

from sqlalchemy import delete, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

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


class ChunkedFileWriter(HashingSink):
    """Writes a file part into ``files`` and ``file_chunks`` as it arrives."""

    def __init__(self, session: AsyncSession, chunk_bytes: int) -> None:
        super().__init__()
        self.session = session
        self.chunk_bytes = chunk_bytes
        self.file_id: uuid.UUID | None = None
        self._buffer = bytearray()
        self._seq = 0

    async def begin(self, filename: str) -> None:
        await super().begin(filename)
        self.file_id = uuid.uuid4()
        await self.session.execute(
            insert(StoredFile).values(
                id=self.file_id, filename=self.filename, size_bytes=0, sha256=""
            )
        )

    async def write(self, data: bytes) -> None:
        await super().write(data)
        self._buffer += data
        while len(self._buffer) >= self.chunk_bytes:
            await self._flush(bytes(self._buffer[: self.chunk_bytes]))
            del self._buffer[: self.chunk_bytes]

    async def end(self) -> None:
        if self._buffer:
            await self._flush(bytes(self._buffer))
            self._buffer.clear()
        await self.session.execute(
            update(StoredFile)
            .where(StoredFile.id == self.file_id)
            .values(size_bytes=self.size_bytes, sha256=self.sha256)
        )

    async def _flush(self, data: bytes) -> None:
        await self.session.execute(
            insert(FileChunk).values(file_id=self.file_id, seq=self._seq, data=data)
        )
        self._seq += 1


async def delete_file(session: AsyncSession, file_id: uuid.UUID) -> None:
    await session.execute(delete(StoredFile).where(StoredFile.id == file_id))
