"""Every import type the service knows, by key."""

from __future__ import annotations

from api.import_types.base import ImportType
from api.import_types.cases import AddCases, ModifyCases, UpsertCases

_TYPES: dict[str, ImportType] = {t.key: t for t in (AddCases(), ModifyCases(), UpsertCases())}


def all_types() -> list[ImportType]:
    return list(_TYPES.values())


def get_type(key: str) -> ImportType | None:
    return _TYPES.get(key)
