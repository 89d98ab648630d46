"""Writing the audit log: one event per action, in the action's own transaction, so that it
commits with what it records and vanishes if that rolls back.

    await audit.record_in_app(session, access, AuditAction.IMPORT_CANCELLED, target=import_id)

Who and from where come from the caller's ``Principal``: its user, the token the request came
with, and the client address. An actor of None is the command line (no user, no address).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit.actions import AuditAction
from api.audit.models import AuditEvent
from api.auth.principal import AppAccess, Principal

Target = uuid.UUID | str | None


async def record(
    session: AsyncSession,
    action: AuditAction,
    *,
    actor: Principal | None,
    app_id: uuid.UUID | None = None,
    target: Target = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """One event done by ``actor`` (None: the command line), in ``app_id`` if it has one."""
    await _insert(
        session,
        action,
        app_id=app_id,
        actor_id=None if actor is None else actor.user_id,
        actor_email=None if actor is None else actor.email,
        token_id=None if actor is None else actor.token_id,
        token_prefix=None if actor is None else actor.token_prefix,
        address=None if actor is None else actor.address,
        target=None if target is None else str(target),
        details=dict(details or {}),
    )


async def record_in_app(
    session: AsyncSession,
    access: AppAccess,
    action: AuditAction,
    *,
    target: Target = None,
    details: Mapping[str, Any] | None = None,
) -> None:
    """One event done by the caller in the app of the path."""
    await record(
        session,
        action,
        actor=access.principal,
        app_id=access.app_id,
        target=target,
        details=details,
    )


async def record_failed_sign_in(session: AsyncSession, email: str, address: str) -> None:
    """A refused sign-in: only the email typed and the address are known. The refusal keeps the
    request's changes (``keeps_changes``), so the event is committed with the counted failure."""
    await _insert(session, AuditAction.SIGN_IN_FAILED, actor_email=email, address=address)


async def _insert(session: AsyncSession, action: AuditAction, **values: Any) -> None:
    # A plain INSERT in the caller's transaction: nothing for the ORM to track or flush.
    await session.execute(insert(AuditEvent).values(action=action.value, **values))
