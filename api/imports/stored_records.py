"""An import's stored file read back in the API, as the worker read it: its records with the
line numbers its errors name."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Gone
from api.imports.models import FileChunk, Import, StoredFile
from api.reading.chunks import Chunks
from api.reading.records import Record
from api.reading.stream import file_records


async def ensure_kept(session: AsyncSession, record: Import) -> None:
    """Gone (410 ``file_purged``) once the import's file was deleted past the retention time."""
    assert record.file_id is not None
    purged = await session.scalar(
        select(StoredFile.purged_at).where(StoredFile.id == record.file_id)
    )
    if purged is not None:
        raise Gone(
            f"The import's file was deleted on {purged:%Y-%m-%d}, past the time files are kept; "
            "its rows can no longer be read.",
            code="file_purged",
        )


def stored_chunks(session: AsyncSession, file_id: uuid.UUID) -> Chunks:
    async def chunks() -> AsyncIterator[bytes]:
        # One short query per chunk: a read session has no transaction to hold a cursor in.
        seq = 0
        query = select(FileChunk.data).where(FileChunk.file_id == file_id)
        while (data := await session.scalar(query.where(FileChunk.seq == seq))) is not None:
            yield data
            seq += 1

    return chunks


def import_records(session: AsyncSession, record: Import) -> AsyncGenerator[Record, None]:
    """The records of an import's file, the header first; the import has a file the worker
    has read (its encoding is then known)."""
    assert record.file_id is not None
    return file_records(
        stored_chunks(session, record.file_id),
        encoding=record.file_encoding,
        sheet=record.sheet,
    )
