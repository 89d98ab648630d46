from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from api.db import Base


class AuditEvent(Base):
    """Who did what, when, from where. No foreign keys: an event outlives the user, token or
    app it names, so it keeps their email and prefix as they were."""

    __tablename__ = "audit_events"
    __table_args__ = (Index("ix_audit_events_app_id_id", "app_id", text("id DESC")),)

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # None for what belongs to no app (a sign-in).
    app_id: Mapped[uuid.UUID | None]
    # None for the command line, and for a failed sign-in (which has only the email typed).
    actor_id: Mapped[uuid.UUID | None]
    actor_email: Mapped[str | None] = mapped_column(Text)
    # The token the request came with; None for a signed-in browser and the command line.
    token_id: Mapped[uuid.UUID | None]
    token_prefix: Mapped[str | None] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=text("'{}'::jsonb"))
