from __future__ import annotations

from pydantic import BaseModel


class ColumnOut(BaseModel):
    name: str
    required: bool
    rule: str
    aliases: list[str]


class ImportTypeOut(BaseModel):
    key: str
    label: str
    description: str
    columns: list[ColumnOut]
    sample_url: str
    sample_xlsx_url: str
