from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel

Action = Literal["create", "update", "unchanged", "failed", "delete"]
Value = int | date | str | None


class FieldChangeOut(BaseModel):
    """One field of a case: ``old`` is null for a create, ``new`` for a delete."""

    field: str
    old: Value
    new: Value


class ChangeOut(BaseModel):
    line: int
    action: Action
    tag_id: str | None
    # A create's every field, an update's changed ones, a delete's removed values; none for an
    # unchanged or failed row.
    fields: list[FieldChangeOut]


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next_cursor: str | None


class HistoryEntryOut(BaseModel):
    """An import that created, changed or removed the case, with what it did."""

    import_id: uuid.UUID
    import_name: str
    type: str
    by: str
    at: datetime | None
    line: int
    action: Action
    fields: list[FieldChangeOut]


class CaseHistoryOut(BaseModel):
    tag_id: str
    items: list[HistoryEntryOut]
