"""Receiving an upload before any database work: the form's fields in memory (capped), its file
into an unnamed local temporary file, its size and SHA-256 computed on the way.

A slow client then holds a file descriptor and a small buffer, never a pooled connection or an
open transaction; the file is copied into PostgreSQL afterwards, at the speed of the disk.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import BinaryIO

from api.imports.file_store import HashingSink
from api.imports.multipart import FormLimits, read_form

# Written to disk in pieces this large: a thread hop per piece, and little memory per upload.
WRITE_BYTES = 64 * 1024
PREFIX = "caseimport-upload-"


class SpooledFile(HashingSink):
    """The file part, on local disk until the upload is stored or refused."""

    def __init__(self, directory: str | None) -> None:
        super().__init__()
        self._directory = directory
        self._buffer = bytearray()
        self._file: BinaryIO | None = None

    async def begin(self, filename: str) -> None:
        await super().begin(filename)
        # Unnamed (O_TMPFILE, or unlinked at once): closing it frees the disk, and so does the
        # end of a killed process, which a named file would outlive.
        self._file = tempfile.TemporaryFile(dir=self._directory, prefix=PREFIX)  # noqa: SIM115 - closed by received_form

    async def write(self, data: bytes) -> None:
        await super().write(data)
        self._buffer += data
        if len(self._buffer) >= WRITE_BYTES:
            await self._flush()

    async def end(self) -> None:
        await self._flush()

    async def _flush(self) -> None:
        if self._file is None or not self._buffer:
            return
        data = bytes(self._buffer)
        self._buffer.clear()
        # In a thread: a disk under write-back pressure must not stall every other request.
        await asyncio.to_thread(self._file.write, data)

    async def chunks(self, size: int) -> AsyncIterator[bytes]:
        """The file again, from its start, in pieces of ``size`` bytes."""
        assert self._file is not None
        await asyncio.to_thread(self._file.seek, 0)
        while chunk := await asyncio.to_thread(self._file.read, size):
            yield chunk

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


@dataclass(frozen=True, slots=True)
class Received:
    fields: dict[str, str]
    file: SpooledFile | None


@asynccontextmanager
async def received_form(
    body: AsyncIterator[bytes],
    content_type: str | None,
    limits: FormLimits,
    *,
    spool_dir: str | None,
) -> AsyncIterator[Received]:
    """The whole form, received; its file is removed when the block ends, however it ends."""
    spooled = SpooledFile(spool_dir)
    try:
        fields, has_file = await read_form(body, content_type, spooled, limits)
        yield Received(fields, spooled if has_file else None)
    finally:
        spooled.close()
