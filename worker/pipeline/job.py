"""One attempt at one import, as its paths see it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from api.import_types.base import ImportType
from api.imports.lifecycle import Claim
from api.reading.chunks import Chunks
from worker.pipeline.laps import Laps
from worker.pipeline.sql.spec import TypeStatements
from worker.pipeline.sql.statement import Scope

__all__ = ["Chunks", "Job"]


@dataclass(frozen=True, slots=True)
class Job:
    claim: Claim
    import_type: ImportType
    statements: TypeStatements
    chunks: Chunks
    # Dates may lie up to a day after this (time zones); fixed once per attempt.
    today: date
    keep_errors: int
    clock: Laps
    scope: Scope = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "scope", Scope(self.claim.app_id, self.claim.import_id))
