from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel


class CaseOut(BaseModel):
    tag_id: str
    case_status: int
    status: Literal["active", "closed"]
    date_opened: date
    about: str
    created_at: datetime
    updated_at: datetime
    created_by_import: uuid.UUID | None
    updated_by_import: uuid.UUID | None


class CasePage(BaseModel):
    items: list[CaseOut]
    next_cursor: str | None


class CaseStats(BaseModel):
    total: int
    active: int
    closed: int
