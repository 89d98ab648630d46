from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, WithJsonSchema

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    # Pydantic would also read a number (a Unix time) as a date; a filter is a yyyy-mm-dd date.
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):
        return value
    if isinstance(value, date):
        return value
    raise ValueError("a date is written yyyy-mm-dd")


IsoDate = Annotated[
    date, BeforeValidator(_iso_date), WithJsonSchema({"type": "string", "format": "date"})
]


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
