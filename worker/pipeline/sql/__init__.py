"""The worker's statements for each import type, by the type's key."""

from __future__ import annotations

from api.import_types.cases import AddCases, ModifyCases, UpsertCases
from worker.pipeline.sql import cases
from worker.pipeline.sql.spec import TypeStatements

_BY_TYPE: dict[str, TypeStatements] = {
    AddCases.key: cases.ADD,
    ModifyCases.key: cases.MODIFY,
    UpsertCases.key: cases.UPSERT,
}


def statements_for(type_key: str) -> TypeStatements | None:
    return _BY_TYPE.get(type_key)
