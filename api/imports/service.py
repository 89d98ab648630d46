"""Creating, attaching, cancelling and reading imports. No FastAPI here; the request commits.

An upload commits the import as ``queued`` together with its file (the outbox); the job is
enqueued only after that commit. If the enqueue is lost, the worker's reconciler finds the
queued import and enqueues it again.

An upload is received whole (its file on local disk) before its transaction begins, so a slow
client never holds a pooled connection; receiving is paced (``pacing``) and capped per app and
per token (``in_flight``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from arq import ArqRedis
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api import queue
from api.audit import service as audit
from api.audit.actions import AuditAction
from api.auth.principal import AppAccess
from api.config import Settings
from api.db import after_commit, release_connection
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.import_types.dates import DateOrder
from api.imports import lifecycle, repository
from api.imports.errors_csv import errors_csv_lines
from api.imports.file_store import store_file
from api.imports.form import CreateImportForm, parse_create_form
from api.imports.in_flight import UploadsInFlight
from api.imports.models import IdempotencyKey, Import, ImportRowError
from api.imports.multipart import FormLimits
from api.imports.pacing import Pace, paced
from api.imports.repository import ImportView
from api.imports.spool import Received, SpooledFile, received_form
from api.imports.status import ImportStatus
from api.mappings import repository as mappings
from api.paging import Page, decode_cursor, integer_key, page_of, timestamp_key, uuid_key
from api.pg import advisory_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Upload:
    body: AsyncIterator[bytes]
    content_type: str | None


@dataclass(frozen=True, slots=True)
class Created:
    view: ImportView
    replayed: bool


def _require_admin(access: AppAccess) -> None:
    if not access.is_admin:
        raise Forbidden(
            "Viewers can read imports but not create or change them.", code="admin_required"
        )


def _not_found(import_id: uuid.UUID) -> NotFound:
    return NotFound(f"There is no import {import_id} in this app.", code="import_not_found")


def name_taken_conflict(name: str) -> Conflict:
    return Conflict(
        f'An import named "{name}" already exists in this app; choose another name.',
        code="name_taken",
        errors=[{"loc": ["body", "name"], "message": "This name is taken.", "type": "name_taken"}],
    )


def enqueue_after_commit(
    session: AsyncSession, redis: ArqRedis, import_id: uuid.UUID, attempt: int
) -> None:
    async def action() -> None:
        try:
            await queue.enqueue(redis, import_id, attempt)
        except Exception:  # Redis down: the import stays queued and the reconciler retries
            log.warning(
                "could not enqueue import %s; the reconciler will", import_id, exc_info=True
            )

    after_commit(session, action)


async def _view(session: AsyncSession, access: AppAccess, import_id: uuid.UUID) -> ImportView:
    view = await repository.get_view(session, access.app_id, import_id)
    if view is None:
        raise _not_found(import_id)
    return view


async def locked_for_change(
    session: AsyncSession, access: AppAccess, import_id: uuid.UUID
) -> Import:
    """The import, locked against the worker and other requests until the request ends."""
    _require_admin(access)
    record = await repository.lock(session, access.app_id, import_id)
    if record is None:
        raise _not_found(import_id)
    return record


def _fingerprint(form: CreateImportForm, file_sha256: str | None) -> str:
    material = [form.name, form.type, form.validate_only, form.on_error, file_sha256]
    # Options added later join only when set, so that keys kept from before still match.
    if form.date_order is not DateOrder.MDY:
        material.append(form.date_order)
    if form.encoding is not None:
        material.append(f"encoding={form.encoding}")
    if form.sheet is not None:
        material.append(f"sheet={form.sheet}")
    if form.columns is not None:
        material.append(f"columns={json.dumps(form.columns, sort_keys=True)}")
    return hashlib.sha256(json.dumps(material).encode()).hexdigest()


def _still_kept(record: IdempotencyKey, settings: Settings) -> bool:
    return record.created_at >= datetime.now(UTC) - timedelta(hours=settings.idempotency_hours)


async def _kept_record(
    session: AsyncSession, access: AppAccess, key: str, settings: Settings
) -> IdempotencyKey | None:
    """The stored request this key names, if it is still kept."""
    record = await session.get(IdempotencyKey, (access.app_id, access.principal.user_id, key))
    return record if record is not None and _still_kept(record, settings) else None


async def _claim_idempotency_key(
    session: AsyncSession, access: AppAccess, key: str, settings: Settings
) -> IdempotencyKey | None:
    """The earlier request's record, if one is kept; else the key, claimed until this request
    ends (409 while another request holds it)."""
    ident = (access.app_id, access.principal.user_id, key)
    # A committed record means the first request is done. A replay only reads, so it takes no
    # lock: parallel replays would otherwise find each other's lock and answer 409.
    record = await _kept_record(session, access, key, settings)
    if record is not None:
        return record
    # Held until this transaction ends: a repeat (from any API process) arriving while the file
    # is written finds it taken; one arriving while it is received is ``in_flight``'s to refuse.
    lock = advisory_key("idempotency", access.app_id, access.principal.user_id, key)
    locked = await session.scalar(select(func.pg_try_advisory_xact_lock(lock)))
    if not locked:
        raise Conflict(
            "A request with this Idempotency-Key is still being stored; retry in a moment.",
            code="idempotency_in_progress",
        )
    # Read again under the lock: the first request may have committed in between.
    record = await session.get(IdempotencyKey, ident, populate_existing=True)
    if record is None:
        return None
    if not _still_kept(record, settings):
        await session.delete(record)
        await session.flush()
        return None
    return record


def _about(form: CreateImportForm, file: SpooledFile | None) -> dict[str, object]:
    """What the audit log keeps of a new import."""
    return {"name": form.name, "type": form.type, "filename": file.filename if file else None}


def _received(upload: Upload, settings: Settings) -> AbstractAsyncContextManager[Received]:
    pace = Pace(
        idle_seconds=settings.upload_idle_seconds,
        min_bytes_per_second=settings.upload_min_bytes_per_second,
        grace_seconds=settings.upload_rate_grace_seconds,
    )
    limits = FormLimits(
        max_file_bytes=settings.max_upload_bytes,
        max_fields=settings.upload_max_form_fields,
        max_form_bytes=settings.upload_max_form_bytes,
    )
    return received_form(
        paced(upload.body, pace), upload.content_type, limits, spool_dir=settings.upload_spool_dir
    )


async def _store(session: AsyncSession, file: SpooledFile, settings: Settings) -> uuid.UUID:
    return await store_file(
        session,
        filename=file.filename,
        size_bytes=file.size_bytes,
        sha256=file.sha256,
        chunks=file.chunks(settings.upload_chunk_bytes),
    )


async def create_import(
    session: AsyncSession,
    access: AppAccess,
    upload: Upload,
    *,
    idempotency_key: str | None,
    settings: Settings,
    redis: ArqRedis,
    in_flight: UploadsInFlight,
) -> Created:
    _require_admin(access)
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        raise Unprocessable(
            "The Idempotency-Key must be 1 to 255 characters.", code="invalid_idempotency_key"
        )
    stored = idempotency_key is not None and (
        await _kept_record(session, access, idempotency_key, settings) is not None
    )
    # A repeat of a stored request creates nothing: it is not held up by the first request's
    # key, nor counted against the caps (its body is paced like any other).
    holding = contextlib.nullcontext() if stored else in_flight.hold(access, idempotency_key)
    with holding:
        await release_connection(session)
        async with _received(upload, settings) as received:
            form = parse_create_form(received.fields)
            file = received.file
            fingerprint = _fingerprint(form, file.sha256 if file else None)
            return await _create(
                session, access, form, file, fingerprint, idempotency_key, settings, redis
            )


async def _create(
    session: AsyncSession,
    access: AppAccess,
    form: CreateImportForm,
    file: SpooledFile | None,
    fingerprint: str,
    idempotency_key: str | None,
    settings: Settings,
    redis: ArqRedis,
) -> Created:
    """The import and its received file, stored in the request's one transaction."""
    if idempotency_key is not None:
        earlier = await _claim_idempotency_key(session, access, idempotency_key, settings)
        if earlier is not None:
            if earlier.fingerprint != fingerprint:
                raise Unprocessable(
                    "This Idempotency-Key was used for a different import (name, type, options "
                    "or file); use a new key for a new import.",
                    code="idempotency_key_reused",
                )
            return Created(await _view(session, access, earlier.import_id), replayed=True)

    if await repository.name_taken(session, access.app_id, form.name):
        raise name_taken_conflict(form.name)
    file_id = await _store(session, file, settings) if file else None
    try:
        record = await lifecycle.create(
            session,
            app_id=access.app_id,
            name=form.name,
            type_key=form.type,
            validate_only=form.validate_only,
            on_error=form.on_error,
            date_order=form.date_order,
            encoding=form.encoding,
            sheet=form.sheet,
            columns=form.columns,
            created_by=access.principal.user_id,
            file_id=file_id,
        )
    except IntegrityError:
        raise name_taken_conflict(form.name) from None
    if form.columns is not None:
        await mappings.remember(session, access.app_id, form.type, form.columns)
    if idempotency_key is not None:
        await session.execute(
            insert(IdempotencyKey).values(
                app_id=access.app_id,
                user_id=access.principal.user_id,
                key=idempotency_key,
                fingerprint=fingerprint,
                import_id=record.id,
            )
        )
    await audit.record_in_app(
        session, access, AuditAction.IMPORT_CREATED, target=record.id, details=_about(form, file)
    )
    if file is not None:
        enqueue_after_commit(session, redis, record.id, record.attempt)
    return Created(await _view(session, access, record.id), replayed=False)


async def attach_file(
    session: AsyncSession,
    access: AppAccess,
    import_id: uuid.UUID,
    upload: Upload,
    *,
    settings: Settings,
    redis: ArqRedis,
    in_flight: UploadsInFlight,
) -> ImportView:
    """A file for a draft, or a corrected file for a failed import; it is queued again."""
    # Asked before the body is read, so a wrong import costs no upload.
    lifecycle.ensure_attachable(await locked_for_change(session, access, import_id))
    with in_flight.hold(access):
        await release_connection(session)
        async with _received(upload, settings) as received:
            if received.file is None:
                raise Unprocessable(
                    'Attach the file in the form field "file".',
                    code="file_required",
                    errors=[
                        {
                            "loc": ["body", "file"],
                            "message": "A file is required.",
                            "type": "file_required",
                        }
                    ],
                )
            # Locked again: the import may have been cancelled while the file arrived.
            record = await locked_for_change(session, access, import_id)
            lifecycle.ensure_attachable(record)
            file_id = await _store(session, received.file, settings)
            filename = received.file.filename
    return await queue_with_file(session, access, record, file_id, filename, redis)


async def queue_with_file(
    session: AsyncSession,
    access: AppAccess,
    record: Import,
    file_id: uuid.UUID,
    filename: str,
    redis: ArqRedis,
    *,
    rewritten: bool = False,
) -> ImportView:
    """Give the locked import its stored file (named ``filename``) and queue it; ``rewritten``
    for a file the service wrote (``lifecycle.attach``)."""
    corrected = record.file_id is not None
    await lifecycle.attach(session, record, file_id, rewritten=rewritten)
    await audit.record_in_app(
        session,
        access,
        # Cells corrected in place, or a file uploaded.
        AuditAction.IMPORT_CORRECTED if rewritten else AuditAction.IMPORT_FILE_ATTACHED,
        target=record.id,
        details={"filename": filename, "corrected": corrected},
    )
    enqueue_after_commit(session, redis, record.id, record.attempt)
    return await _view(session, access, record.id)


async def cancel_import(
    session: AsyncSession, access: AppAccess, import_id: uuid.UUID
) -> ImportView:
    record = await locked_for_change(session, access, import_id)
    await lifecycle.cancel(session, record)
    await audit.record_in_app(session, access, AuditAction.IMPORT_CANCELLED, target=record.id)
    return await _view(session, access, record.id)


async def get_import(session: AsyncSession, access: AppAccess, import_id: uuid.UUID) -> ImportView:
    return await _view(session, access, import_id)


async def list_imports(
    session: AsyncSession,
    access: AppAccess,
    *,
    status: ImportStatus | None,
    type_key: str | None,
    limit: int,
    cursor: str | None,
) -> Page[ImportView]:
    """The app's imports, newest first."""
    after = None
    if cursor:
        after = decode_cursor(cursor, timestamp_key, uuid_key)
    views = await repository.list_views(
        session, access.app_id, status=status, type_key=type_key, limit=limit + 1, after=after
    )
    return page_of(views, limit, lambda last: [last.row.created_at.isoformat(), str(last.row.id)])


@dataclass(frozen=True, slots=True)
class ErrorPage:
    page: Page[ImportRowError]
    # Errors in all, and the rows they are on (the kept errors are the first of them).
    error_count: int
    error_rows: int


async def error_page(
    session: AsyncSession,
    access: AppAccess,
    import_id: uuid.UUID,
    *,
    limit: int,
    cursor: str | None,
) -> ErrorPage:
    """The import's kept row errors, in line order."""
    view = await _view(session, access, import_id)
    after = decode_cursor(cursor, integer_key)[0] if cursor else None
    rows = await repository.errors_page(session, import_id, limit=limit + 1, after_seq=after)
    return ErrorPage(
        page_of(rows, limit, lambda last: [last.seq]),
        view.row.error_count or 0,
        view.row.error_rows or 0,
    )


async def errors_csv(
    session: AsyncSession, access: AppAccess, import_id: uuid.UUID, *, keep: int
) -> tuple[str, str]:
    """The kept row errors as a CSV a spreadsheet opens safely: its file name and its text."""
    view = await _view(session, access, import_id)
    rows = await repository.errors_page(session, import_id, limit=keep, after_seq=None)
    return f"import-{view.row.id}-errors.csv", errors_csv_lines(rows, header=True)
