"""An import's stored file read back in the API, as the worker read it: its records with the
line numbers its errors name."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.errors import Gone
from api.imports.models import FileChunk, Import, StoredFile
from api.reading.chunks import Chunks
from api.reading.records import Record
from api.reading.stream import file_records


async def ensure_kept(session: AsyncSession, record: Import, *, hold: bool = False) -> None:
    """Gone (410 ``file_purged``) once the import's file was deleted past the retention time.
    ``hold``: the file is share-locked until the session's transaction ends, so that the purge
    (which skips locked files) cannot delete it while a write reads it (a corrected copy)."""
    assert record.file_id is not None
    query = select(StoredFile.purged_at).where(StoredFile.id == record.file_id)
    purged = await session.scalar(query.with_for_update(read=True) if hold else query)
    if purged is not None:
        raise _gone(purged)


def _gone(purged: datetime) -> Gone:
    return Gone(
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
        # Its chunks ran out because the purge deleted them meanwhile: say so, never cut rows.
        purged = await session.scalar(select(StoredFile.purged_at).where(StoredFile.id == file_id))
        if purged is not None:
            raise _gone(purged)

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
