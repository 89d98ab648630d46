from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    app: str | None = Field(description="the app's slug; null for a sign-in")
    actor: str | None = Field(
        description="the email of who did it (for a failed sign-in: the email typed); null for"
        " the command line"
    )
    token: str | None = Field(description="the prefix of the API token the request came with")
    address: str | None = Field(description="the client address; null for the command line")
    action: str = Field(examples=["import.created"])
    target: str | None = Field(description="what it was done to: an import's or token's id, ...")
    details: dict[str, Any]


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None
