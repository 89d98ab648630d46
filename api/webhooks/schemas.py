from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.webhooks.addresses import MAX_URL_LENGTH
from api.webhooks.events import EventType

Events = list[EventType]


class WebhookCreate(BaseModel):
    # Where it may point is checked by the service (422 webhook_url_refused naming the field).
    url: str = Field(
        min_length=1, max_length=MAX_URL_LENGTH, examples=["https://ci.example.org/hook"]
    )
    events: Events = Field(min_length=1, max_length=len(EventType))
    active: bool = True


class WebhookUpdate(BaseModel):
    url: str | None = Field(default=None, min_length=1, max_length=MAX_URL_LENGTH)
    events: Events | None = Field(default=None, min_length=1, max_length=len(EventType))
    active: bool | None = None


class WebhookOut(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    active: bool
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookOut):
    secret: str = Field(description="the signing secret: in this answer only")


class WebhookList(BaseModel):
    items: list[WebhookOut]
    # The list convention's shape; an app has at most a few endpoints.
    next_cursor: str | None = None


class SecretOut(BaseModel):
    secret: str = Field(description="the new signing secret: in this answer only")


class TestSent(BaseModel):
    event_id: uuid.UUID
    delivery_id: int


class AttemptOut(BaseModel):
    at: datetime
    status_code: int | None = Field(description="the endpoint's answer; null when none came")
    error: str | None = Field(description="why the attempt failed: no answer, or not a 2xx")
    duration_ms: float


class EventOut(BaseModel):
    id: uuid.UUID
    type: str
    created_at: datetime


class DeliveryOut(BaseModel):
    id: int
    event: EventOut
    state: Literal["pending", "delivered", "failed"]
    attempt_count: int
    next_attempt_at: datetime | None = Field(description="when it is tried next, while pending")
    created_at: datetime
    finished_at: datetime | None
    attempts: list[AttemptOut] = Field(description="every attempt, oldest first")


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
