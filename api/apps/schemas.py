from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from api.auth.principal import Role


class CaseCounts(BaseModel):
    total: int
    active: int
    closed: int


class AppOut(BaseModel):
    slug: str
    name: str
    role: Role
    cases: CaseCounts


class AppList(BaseModel):
    items: list[AppOut]
    # The list convention's shape; the list of one caller's apps is never long enough to page.
    next_cursor: str | None = None


class AppCreate(BaseModel):
    # The slug's rule is checked by the service, which answers with code invalid_slug.
    slug: str = Field(max_length=200)
    name: str = Field(max_length=200)


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    expires_days: int | None = Field(default=None, ge=1, le=3650)


class TokenOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


class TokenCreated(BaseModel):
    id: uuid.UUID
    name: str
    token: str
    prefix: str
    created_at: datetime
    expires_at: datetime | None


class TokenList(BaseModel):
    items: list[TokenOut]
    next_cursor: str | None = None
