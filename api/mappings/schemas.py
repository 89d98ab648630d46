from __future__ import annotations

from pydantic import BaseModel


class ColumnMappingOut(BaseModel):
    """A file's header text -> the column it fills, or null for a column to ignore; empty
    when the app has not mapped columns for this type."""

    columns: dict[str, str | None]
