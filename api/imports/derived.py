"""Imports made from another: the apply of a plan, a check again, and a revert.

A completed check-only import is a plan: applying it queues an import that writes exactly its
recorded changes (the worker checks again, in the transaction that applies, that none of its
cases changed). A finished check-only import whose file is kept can be checked again: a new
check-only import reads the same stored file with the same options, for a plan of the cases as
they are now. A completed import that applied rows can be reverted once: the revert import
deletes what it created and restores what it changed.
"""

from __future__ import annotations

import re
import uuid
from typing import Literal

from arq.connections import ArqRedis
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.audit.actions import AuditAction
from api.auth.principal import AppAccess
from api.changes.actions import ChangeAction
from api.changes.models import ImportChange
from api.changes.staleness import Stale, first_stale
from api.errors import Conflict
from api.imports import lifecycle, repository
from api.imports.models import Import, StoredFile
from api.imports.repository import ImportView
from api.imports.service import (
    enqueue_after_commit,
    get_import,
    locked_for_change,
    name_taken_conflict,
)
from api.imports.status import ImportStatus

REVERT_TYPE = "revert"
OnError = Literal["fail", "skip"]


async def _free_name(session: AsyncSession, app_id: uuid.UUID, base: str) -> str:
    """``base``, or ``base (2)``, ``(3)`` … when it is taken."""
    name, n = base[:200], 1
    while await repository.name_taken(session, app_id, name):
        n += 1
        suffix = f" ({n})"
        name = base[: 200 - len(suffix)] + suffix
    return name


async def _recorded(session: AsyncSession, import_id: uuid.UUID, action: ChangeAction) -> int:
    found = await session.scalar(
        select(func.count())
        .select_from(ImportChange)
        .where(ImportChange.import_id == import_id, ImportChange.action == int(action))
    )
    return int(found or 0)


async def _ensure_plan(session: AsyncSession, access: AppAccess, plan: Import) -> None:
    if not (plan.status == ImportStatus.COMPLETED and plan.validate_only):
        raise Conflict(
            "Only a completed check-only (validate_only) import is a plan that can be applied.",
            code="not_a_plan",
        )
    applied = await session.scalar(select(Import.name).where(Import.plan_id == plan.id))
    if applied is not None:
        raise Conflict(
            f'This plan was applied already, by the import "{applied}".', code="plan_applied"
        )
    result = plan.result or {}
    planned = await _recorded(session, plan.id, ChangeAction.CREATE) + await _recorded(
        session, plan.id, ChangeAction.UPDATE
    )
    if planned != result.get("created", 0) + result.get("updated", 0):
        raise Conflict(
            "This check was made before plans were recorded; check the file again.",
            code="plan_unavailable",
        )
    found = (
        await session.execute(
            text(first_stale(":app_id", ":plan_id")), {"app_id": access.app_id, "plan_id": plan.id}
        )
    ).first()
    if found is not None:
        stale = Stale(found.line, found.tag_id, found.what)
        raise Conflict(
            stale.message,
            code="plan_stale",
            extra={"line": stale.line, "tag_id": stale.tag_id},
        )


async def apply_plan(
    session: AsyncSession,
    access: AppAccess,
    plan_id: uuid.UUID,
    *,
    name: str | None,
    redis: ArqRedis,
) -> ImportView:
    plan = await locked_for_change(session, access, plan_id)
    await _ensure_plan(session, access, plan)
    return await _derive(
        session,
        access,
        plan,
        redis,
        name=name or await _free_name(session, access.app_id, f"{plan.name} (applied)"),
        type_key=plan.type,
        on_error=plan.on_error,
        audited=(AuditAction.IMPORT_APPLIED, {"plan": str(plan.id)}),
        plan_id=plan.id,
    )


# A check is checked again once it answered: completed, or failed on the cases it met (they may
# have changed since) or on a worker lost; one cancelled, or not finished, has no answer to renew.
_CHECKABLE = frozenset({ImportStatus.COMPLETED, ImportStatus.FAILED})
CHECKED_AGAIN = " (checked again)"
# The name of a check again of a check again: its own, less the suffix a check again adds.
_AGAIN_SUFFIX = re.compile(re.escape(CHECKED_AGAIN) + r"( \(\d+\))?$")


def _ensure_checkable(source: Import) -> uuid.UUID:
    """The source's current file, when the source is a check that can be checked again."""
    if not source.validate_only:
        raise Conflict(
            "Only a check-only (validate_only) import can be checked again; this one applies "
            "its rows.",
            code="not_a_plan",
        )
    if source.status not in _CHECKABLE or source.file_id is None:
        raise Conflict(
            "Only a check that completed or failed can be checked again; this one is "
            f"{source.status}.",
            code="not_a_plan",
        )
    return source.file_id


async def _hold_kept_file(session: AsyncSession, file_id: uuid.UUID) -> None:
    """409 ``file_purged`` once the file was purged; else the file is held (a share lock, until
    the request ends) against the worker's purge, which skips the files it cannot lock."""
    purged = await session.scalar(
        select(StoredFile.purged_at).where(StoredFile.id == file_id).with_for_update(read=True)
    )
    if purged is not None:
        raise Conflict(
            f"The file of this check was deleted on {purged:%Y-%m-%d}, past the time files are "
            "kept; upload it again in a new check.",
            code="file_purged",
        )


async def check_again(
    session: AsyncSession,
    access: AppAccess,
    import_id: uuid.UUID,
    *,
    name: str | None,
    redis: ArqRedis,
) -> ImportView:
    """Queue a new check-only import of the source's stored file (shared, not copied), with its
    type, options and column mapping."""
    source = await locked_for_change(session, access, import_id)
    await _hold_kept_file(session, _ensure_checkable(source))
    base = _AGAIN_SUFFIX.sub("", source.name) + CHECKED_AGAIN
    return await _derive(
        session,
        access,
        source,
        redis,
        name=name or await _free_name(session, access.app_id, base),
        type_key=source.type,
        on_error=source.on_error,
        audited=(AuditAction.IMPORT_CHECKED_AGAIN, {"checks_again": str(source.id)}),
        checks_again=source.id,
    )


async def _ensure_revertible(session: AsyncSession, done: Import) -> None:
    if not (
        done.status == ImportStatus.COMPLETED and not done.validate_only and done.revert_of is None
    ):
        raise Conflict(
            "Only a completed import that applied rows can be reverted (not a check-only run, "
            "nor a revert).",
            code="not_revertible",
        )
    earlier = await session.scalar(
        select(Import.name).where(
            Import.revert_of == done.id,
            Import.status.not_in([ImportStatus.FAILED, ImportStatus.CANCELLED]),
        )
    )
    if earlier is not None:
        raise Conflict(
            f'This import is reverted already, by the import "{earlier}".', code="already_reverted"
        )
    # Imports from before changes were recorded have no id range for their creates.
    unrecorded = (done.result or {}).get("created", 0) > 0 and done.created_ids is None
    updated = (done.result or {}).get("updated", 0)
    if unrecorded or updated > await _recorded(session, done.id, ChangeAction.UPDATE):
        raise Conflict(
            "This import ran before changes were recorded, so it cannot be reverted.",
            code="not_revertible",
        )


async def revert_import(
    session: AsyncSession,
    access: AppAccess,
    import_id: uuid.UUID,
    *,
    name: str | None,
    on_error: OnError,
    redis: ArqRedis,
) -> ImportView:
    done = await locked_for_change(session, access, import_id)
    await _ensure_revertible(session, done)
    return await _derive(
        session,
        access,
        done,
        redis,
        name=name or await _free_name(session, access.app_id, f"Revert of {done.name}"),
        type_key=REVERT_TYPE,
        on_error=on_error,
        audited=(AuditAction.IMPORT_REVERTED, {"reverts": str(done.id), "on_error": on_error}),
        revert_of=done.id,
    )


async def _derive(
    session: AsyncSession,
    access: AppAccess,
    source: Import,
    redis: ArqRedis,
    *,
    name: str,
    type_key: str,
    on_error: str,
    audited: tuple[AuditAction, dict[str, str]],
    plan_id: uuid.UUID | None = None,
    revert_of: uuid.UUID | None = None,
    checks_again: uuid.UUID | None = None,
) -> ImportView:
    """The import made from ``source``, audited and queued once the request commits."""
    if await repository.name_taken(session, access.app_id, name):
        raise name_taken_conflict(name)
    try:
        async with session.begin_nested():
            record = await lifecycle.create_derived(
                session,
                source,
                name=name,
                type_key=type_key,
                on_error=on_error,
                created_by=access.principal.user_id,
                plan_id=plan_id,
                revert_of=revert_of,
                checks_again=checks_again,
            )
    except IntegrityError:
        raise name_taken_conflict(name) from None
    action, details = audited
    await audit.record_in_app(session, access, action, target=record.id, details=details)
    enqueue_after_commit(session, redis, record.id, record.attempt)
    return await get_import(session, access, record.id)
