"""A statement of the worker with the parameters it takes, declared by name."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any, Literal

from asyncpg import Record

from api.pg import Connection

Param = Literal["app_id", "import_id"]
APP: tuple[Param, ...] = ("app_id",)
APP_AND_IMPORT: tuple[Param, ...] = ("app_id", "import_id")


@dataclass(frozen=True, slots=True)
class Scope:
    """What an import's statements are run for: its app (whose stored rows they read) and the
    import itself (which marks what it writes)."""

    app_id: uuid.UUID
    import_id: uuid.UUID


@dataclass(frozen=True, slots=True)
class Statement:
    """SQL text whose ``$1``, ``$2`` … are ``params``, in that order."""

    sql: str
    params: tuple[Param, ...] = ()

    def args(self, scope: Scope) -> tuple[uuid.UUID, ...]:
        return tuple(getattr(scope, name) for name in self.params)

    async def execute(self, conn: Connection, scope: Scope) -> str:
        return await conn.execute(self.sql, *self.args(scope))

    async def fetchval(self, conn: Connection, scope: Scope) -> Any:
        return await conn.fetchval(self.sql, *self.args(scope))

    async def fetchrow(self, conn: Connection, scope: Scope) -> Record | None:
        return await conn.fetchrow(self.sql, *self.args(scope))
