from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response

from api.apps.deps import AdminAccessDep
from api.deps import SessionDep, SettingsDep
from api.openapi import problem_responses
from api.webhooks import deliveries, service
from api.webhooks.models import WebhookEndpoint
from api.webhooks.schemas import (
    AttemptOut,
    DeliveryOut,
    DeliveryPage,
    EventOut,
    SecretOut,
    TestSent,
    WebhookCreate,
    WebhookCreated,
    WebhookList,
    WebhookOut,
    WebhookUpdate,
)

router = APIRouter(tags=["webhooks"])

Limit = Annotated[int, Query(ge=1, le=500)]
_ONE = "/apps/{app}/webhooks/{webhook_id}"
_ERRORS = problem_responses(401, 403, 404, s403="viewers cannot manage webhooks (admin_required)")


def _out(endpoint: WebhookEndpoint) -> WebhookOut:
    return WebhookOut.model_validate(endpoint, from_attributes=True)


def _delivery_out(delivery: deliveries.Delivery) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        event=EventOut.model_validate(delivery.event, from_attributes=True),
        state=delivery.state,
        attempt_count=delivery.attempt_count,
        next_attempt_at=delivery.next_attempt_at,
        created_at=delivery.created_at,
        finished_at=delivery.finished_at,
        attempts=[AttemptOut.model_validate(a, from_attributes=True) for a in delivery.attempts],
    )


@router.get("/apps/{app}/webhooks", responses=_ERRORS)
async def list_webhooks(access: AdminAccessDep, session: SessionDep) -> WebhookList:
    return WebhookList(items=[_out(e) for e in await service.list_endpoints(session, access)])


@router.post(
    "/apps/{app}/webhooks",
    status_code=201,
    responses=problem_responses(
        401,
        403,
        404,
        409,
        422,
        s403="viewers and tokens cannot register webhooks (admin_required, session_required)",
        s409="the app has as many webhooks as it may (webhook_limit)",
        s422="a bad URL, one to a private address (webhook_url_refused), or unknown events",
    ),
)
async def create_webhook(
    body: WebhookCreate, access: AdminAccessDep, session: SessionDep, settings: SettingsDep
) -> WebhookCreated:
    """Register an endpoint; the answer holds its signing secret, shown this once."""
    endpoint, secret = await service.create_endpoint(
        session, access, settings, url=body.url, events=body.events, active=body.active
    )
    return WebhookCreated(**_out(endpoint).model_dump(), secret=secret)


@router.get(_ONE, responses=_ERRORS)
async def get_webhook(
    webhook_id: uuid.UUID, access: AdminAccessDep, session: SessionDep
) -> WebhookOut:
    return _out(await service.get_endpoint(session, access, webhook_id))


@router.patch(
    _ONE,
    responses={**_ERRORS, **problem_responses(422, s422="a bad URL or unknown events")},
)
async def update_webhook(
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    access: AdminAccessDep,
    session: SessionDep,
    settings: SettingsDep,
) -> WebhookOut:
    endpoint = await service.update_endpoint(
        session,
        access,
        settings,
        webhook_id,
        url=body.url,
        events=body.events,
        active=body.active,
    )
    return _out(endpoint)


@router.delete(_ONE, status_code=204, responses=_ERRORS)
async def delete_webhook(
    webhook_id: uuid.UUID, access: AdminAccessDep, session: SessionDep
) -> Response:
    await service.delete_endpoint(session, access, webhook_id)
    return Response(status_code=204)


@router.post(f"{_ONE}/rotate-secret", responses=_ERRORS)
async def rotate_webhook_secret(
    webhook_id: uuid.UUID, access: AdminAccessDep, session: SessionDep, settings: SettingsDep
) -> SecretOut:
    """A new signing secret, shown this once; the old one stops signing at once."""
    return SecretOut(secret=await service.rotate_secret(session, access, settings, webhook_id))


@router.post(
    f"{_ONE}/test",
    status_code=202,
    responses={
        **_ERRORS,
        **problem_responses(409, s409="the webhook is inactive (webhook_inactive)"),
    },
)
async def send_test_event(
    webhook_id: uuid.UUID, access: AdminAccessDep, session: SessionDep
) -> TestSent:
    """Queue a ``webhook.test`` event to this endpoint; a worker sends it like any other."""
    event_id, delivery_id = await service.send_test(session, access, webhook_id)
    return TestSent(event_id=event_id, delivery_id=delivery_id)


@router.get(
    f"{_ONE}/deliveries",
    responses={**_ERRORS, **problem_responses(422, s422="a limit out of range or a bad cursor")},
)
async def list_deliveries(
    webhook_id: uuid.UUID,
    access: AdminAccessDep,
    session: SessionDep,
    limit: Limit = 50,
    cursor: str | None = None,
) -> DeliveryPage:
    """The endpoint's deliveries, newest first, each with every attempt at it."""
    page = await deliveries.deliveries(session, access, webhook_id, limit=limit, cursor=cursor)
    return DeliveryPage(items=[_delivery_out(d) for d in page.items], next_cursor=page.next_cursor)
