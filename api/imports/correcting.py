"""Fixing a failed import's rows: its failed rows as a CSV to fix and upload again, and
corrections of cells of its stored file, run again at once. No FastAPI here."""

from __future__ import annotations

import uuid

from arq import ArqRedis
from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.principal import AppAccess
from api.config import Settings
from api.errors import NotFound
from api.import_types.registry import get_type
from api.imports import lifecycle, repository
from api.imports.corrections import Corrections, corrected_name, write_corrected
from api.imports.failed_row_page import FailedRowPage, failed_row_page
from api.imports.failed_rows import Download, error_text, failed_rows_csv
from api.imports.file_store import store_file
from api.imports.models import Import
from api.imports.repository import ImportView
from api.imports.service import queue_with_file
from api.imports.spool import SpooledFile
from api.imports.stored_records import ensure_kept, import_records
from api.paging import bigint_key, decode_cursor, encode_cursor

# Failed lines read at a time.
LINES_PAGE = 10_000


def _not_found(import_id: uuid.UUID) -> NotFound:
    return NotFound(f"There is no import {import_id} in this app.", code="import_not_found")


async def failed_rows(session: AsyncSession, access: AppAccess, import_id: uuid.UUID) -> Download:
    """The header and the failed rows of the import's file, each with its errors."""
    record = await repository.get(session, access.app_id, import_id)
    if record is None:
        raise _not_found(import_id)
    lifecycle.ensure_rows_read(record)
    await ensure_kept(session, record)
    kept = await repository.kept_errors_by_line(session, record.id)

    async def lines(after: int) -> list[int]:
        return await repository.failed_lines(session, record.id, after=after, limit=LINES_PAGE)

    return await failed_rows_csv(
        f"import-{record.id}-failed-rows.csv",
        import_records(session, record),
        lines,
        {line: error_text(errors) for line, errors in kept.items()},
    )


async def failed_rows_page(
    session: AsyncSession,
    access: AppAccess,
    import_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[FailedRowPage, str | None]:
    """A page of the failed rows of the import's file, with their cells and kept errors, and
    the cursor of the next page (None on the last)."""
    (after,) = decode_cursor(cursor, bigint_key) if cursor else (0,)
    record = await repository.get(session, access.app_id, import_id)
    if record is None:
        raise _not_found(import_id)
    lifecycle.ensure_rows_read(record)
    await ensure_kept(session, record)
    lines = await repository.failed_lines(session, record.id, after=after, limit=limit + 1)
    shown = lines[:limit]
    import_type = get_type(record.type)
    assert import_type is not None
    page = await failed_row_page(
        import_records(session, record),
        shown,
        await repository.kept_errors_by_line(session, record.id),
        import_type=import_type,
        mapping=record.columns,
    )
    return page, encode_cursor([shown[-1]]) if len(lines) > limit else None


async def correct(
    session: AsyncSession,
    access: AppAccess,
    import_id: uuid.UUID,
    corrections: Corrections,
    *,
    settings: Settings,
    redis: ArqRedis,
) -> ImportView:
    """A copy of the failed import's file with these cells replaced, queued as its corrected
    file. The caller is an admin of the app."""
    record = await repository.lock(session, access.app_id, import_id)
    if record is None:
        raise _not_found(import_id)
    lifecycle.ensure_correctable(record)
    await ensure_kept(session, record, hold=True)
    copy = SpooledFile(settings.upload_spool_dir)
    try:
        await copy.begin(corrected_name(await _filename(session, record)))
        import_type = get_type(record.type)
        assert import_type is not None
        await write_corrected(
            import_records(session, record),
            corrections,
            copy,
            import_type=import_type,
            mapping=record.columns,
            delimiter=record.file_delimiter or ",",
        )
        file_id = await store_file(
            session,
            filename=copy.filename,
            size_bytes=copy.size_bytes,
            sha256=copy.sha256,
            chunks=copy.chunks(settings.upload_chunk_bytes),
        )
    finally:
        copy.close()
    return await queue_with_file(
        session, access, record, file_id, copy.filename, redis, rewritten=True
    )


async def _filename(session: AsyncSession, record: Import) -> str:
    view = await repository.get_view(session, record.app_id, record.id)
    return view.file.filename if view is not None and view.file is not None else "upload.csv"
