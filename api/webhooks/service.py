"""Registering an app's webhook endpoints (admins), and queueing a test event to one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.audit.actions import AuditAction
from api.auth.principal import AppAccess
from api.config import Settings
from api.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.webhooks import addresses, outbox, secrets
from api.webhooks.events import TEST_EVENT, EventType
from api.webhooks.models import WebhookDelivery, WebhookEndpoint

# Each event is sent to every subscribed endpoint of its app: this bounds the fan-out.
MAX_ENDPOINTS_PER_APP = 20


def _require_session(access: AppAccess, action: str) -> None:
    # An endpoint outlives the token that made it: a leaked token must not leave behind a
    # channel that keeps sending the app's imports to its holder once revoked.
    if access.principal.via != "session":
        raise Forbidden(f"Sign in to {action}: API tokens cannot do it.", code="session_required")


async def _checked_url(url: str, settings: Settings) -> str:
    try:
        await addresses.target(url, allow_private=settings.webhooks_allow_private)
    except addresses.UrlRefused as exc:
        raise Unprocessable(
            str(exc),
            code="webhook_url_refused",
            errors=[{"loc": ["body", "url"], "message": str(exc), "type": "webhook_url_refused"}],
        ) from None
    return url


def _event_list(events: Sequence[EventType]) -> list[str]:
    return sorted({event.value for event in events})


async def list_endpoints(session: AsyncSession, access: AppAccess) -> list[WebhookEndpoint]:
    found = await session.execute(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.app_id == access.app_id)
        .order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    )
    return list(found.scalars())


async def get_endpoint(
    session: AsyncSession, access: AppAccess, endpoint_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.app_id == access.app_id, WebhookEndpoint.id == endpoint_id
    )
    found = (await session.execute(query.with_for_update() if lock else query)).scalar_one_or_none()
    if found is None:
        raise NotFound("There is no such webhook in this app.", code="webhook_not_found")
    return found


async def create_endpoint(
    session: AsyncSession,
    access: AppAccess,
    settings: Settings,
    *,
    url: str,
    events: Sequence[EventType],
    active: bool,
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret (shown once)."""
    _require_session(access, "register webhooks")
    count = await session.scalar(
        select(func.count()).where(WebhookEndpoint.app_id == access.app_id)
    )
    if (count or 0) >= MAX_ENDPOINTS_PER_APP:
        raise Conflict(
            f"An app has at most {MAX_ENDPOINTS_PER_APP} webhooks; delete one first.",
            code="webhook_limit",
        )
    secret = secrets.new_secret()
    endpoint = WebhookEndpoint(
        id=uuid.uuid4(),
        app_id=access.app_id,
        url=await _checked_url(url, settings),
        events=_event_list(events),
        active=active,
        secret_encrypted=secrets.encrypt(secret, settings.secret_key),
        created_by=access.principal.user_id,
    )
    session.add(endpoint)
    await session.flush()
    await session.refresh(endpoint)
    await audit.record_in_app(
        session,
        access,
        AuditAction.WEBHOOK_CREATED,
        target=endpoint.id,
        details={"url": endpoint.url, "events": endpoint.events},
    )
    return endpoint, secret


async def update_endpoint(
    session: AsyncSession,
    access: AppAccess,
    settings: Settings,
    endpoint_id: uuid.UUID,
    *,
    url: str | None,
    events: Sequence[EventType] | None,
    active: bool | None,
) -> WebhookEndpoint:
    endpoint = await get_endpoint(session, access, endpoint_id, lock=True)
    changed: dict[str, object] = {}
    if url is not None and url != endpoint.url:
        _require_session(access, "change a webhook's URL")
        endpoint.url = changed["url"] = await _checked_url(url, settings)
    if events is not None and _event_list(events) != endpoint.events:
        endpoint.events = _event_list(events)
        changed["events"] = endpoint.events
    if active is not None and active != endpoint.active:
        endpoint.active = changed["active"] = active
    if changed:
        endpoint.updated_at = datetime.now(UTC)
        await session.flush()
        await audit.record_in_app(
            session, access, AuditAction.WEBHOOK_UPDATED, target=endpoint.id, details=changed
        )
    return endpoint


async def delete_endpoint(session: AsyncSession, access: AppAccess, endpoint_id: uuid.UUID) -> None:
    """The endpoint, with its deliveries (sent or not) and their attempts."""
    endpoint = await get_endpoint(session, access, endpoint_id, lock=True)
    await session.delete(endpoint)
    await session.flush()
    await audit.record_in_app(
        session,
        access,
        AuditAction.WEBHOOK_DELETED,
        target=endpoint_id,
        details={"url": endpoint.url},
    )


async def rotate_secret(
    session: AsyncSession, access: AppAccess, settings: Settings, endpoint_id: uuid.UUID
) -> str:
    """A new signing secret (shown once); deliveries from now on are signed with it."""
    _require_session(access, "rotate a webhook's secret")
    endpoint = await get_endpoint(session, access, endpoint_id, lock=True)
    secret = secrets.new_secret()
    endpoint.secret_encrypted = secrets.encrypt(secret, settings.secret_key)
    endpoint.updated_at = datetime.now(UTC)
    await session.flush()
    await audit.record_in_app(
        session, access, AuditAction.WEBHOOK_SECRET_ROTATED, target=endpoint.id
    )
    return secret


async def send_test(
    session: AsyncSession, access: AppAccess, endpoint_id: uuid.UUID
) -> tuple[uuid.UUID, int]:
    """A ``webhook.test`` event to this endpoint only, sent by a worker like any other; answers
    the event's and the delivery's ids."""
    endpoint = await get_endpoint(session, access, endpoint_id)
    if not endpoint.active:
        raise Conflict("This webhook is not active; activate it first.", code="webhook_inactive")
    data = {"webhook": {"id": str(endpoint.id), "app": access.slug, "url": endpoint.url}}
    event_id = await outbox.write(
        await outbox.connection_of(session), access.app_id, TEST_EVENT, data, [endpoint.id]
    )
    delivery_id = await session.scalar(
        select(WebhookDelivery.id).where(WebhookDelivery.event_id == event_id)
    )
    assert delivery_id is not None
    return event_id, delivery_id
