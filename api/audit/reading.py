"""Reading the audit log: an app's events for its admins, every event for owners."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.models import App
from api.audit.actions import AuditAction
from api.audit.models import AuditEvent
from api.auth.principal import AppAccess, Principal
from api.errors import Forbidden
from api.paging import Page, bigint_key, decode_cursor, page_of


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    at: datetime
    app: str | None  # the app's slug
    actor: str | None
    token: str | None
    address: str | None
    action: str
    target: str | None
    details: dict[str, Any]


async def app_log(
    session: AsyncSession,
    access: AppAccess,
    *,
    action: AuditAction | None,
    limit: int,
    cursor: str | None,
) -> Page[Entry]:
    """The app's events, newest first. The router has checked the admin role."""
    return await _page(session, access.app_id, action=action, limit=limit, cursor=cursor)


async def full_log(
    session: AsyncSession,
    principal: Principal,
    *,
    action: AuditAction | None,
    limit: int,
    cursor: str | None,
) -> Page[Entry]:
    """Every event, those of no app (sign-ins) included, newest first: for owners only."""
    # A token sees one app, whoever holds it.
    if not principal.is_owner or principal.token_app_id is not None:
        raise Forbidden(
            "Only an owner, signed in, may read the whole audit log; an app's admins read"
            " theirs at /api/apps/{app}/audit.",
            code="owner_required",
        )
    return await _page(session, None, action=action, limit=limit, cursor=cursor)


async def _page(
    session: AsyncSession,
    app_id: uuid.UUID | None,
    *,
    action: AuditAction | None,
    limit: int,
    cursor: str | None,
) -> Page[Entry]:
    event = AuditEvent
    query = (
        select(
            event.id,
            event.at,
            App.slug,
            event.actor_email,
            event.token_prefix,
            event.address,
            event.action,
            event.target,
            event.details,
        )
        .outerjoin(App, App.id == event.app_id)
        .order_by(event.id.desc())
        .limit(limit + 1)
    )
    if app_id is not None:
        query = query.where(event.app_id == app_id)
    if action is not None:
        query = query.where(event.action == action.value)
    if cursor:
        (after,) = decode_cursor(cursor, bigint_key)
        query = query.where(event.id < after)
    rows = [Entry(*row) for row in await session.execute(query)]
    return page_of(rows, limit, lambda last: [last.id])
