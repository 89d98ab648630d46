"""Every statement the worker runs for an import type declares exactly the parameters
PostgreSQL finds in it, and every registered import type has its statements."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from api.config import Settings
from api.import_types.registry import all_types
from worker.pipeline import stage
from worker.pipeline.sql import statements_for
from worker.pipeline.sql.spec import DirectCopy, TypeStatements
from worker.pipeline.sql.statement import Scope, Statement
from worker.pipeline.tables import BATCH, KEPT


def _statements(statements: TypeStatements) -> Iterator[tuple[str, Statement]]:
    for n, check in enumerate(statements.checks):
        yield f"checks[{n}]", check
    yield "apply", statements.apply
    yield "record", statements.record
    yield "plan", statements.plan
    yield "record_failed", statements.record_failed
    if statements.recheck is not None:
        yield "recheck", statements.recheck
    dry = _dry_copy(statements)
    if dry is not None and dry.refused is not None:
        yield "dry_copy.refused", dry.refused
    if statements.batched is not None:
        yield "batched.apply", statements.batched.apply
        yield "batched.account", statements.batched.account
        yield "batched.refused", statements.batched.refused


def _dry_copy(statements: TypeStatements) -> DirectCopy | None:
    if statements.dry_copy is None:
        return None
    return statements.dry_copy(Scope(uuid.uuid4(), uuid.uuid4()))


@pytest.fixture
async def conn(settings: Settings) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(settings.database_url)
    try:
        yield connection
    finally:
        await connection.close()


def test_every_import_type_has_its_statements() -> None:
    assert all(statements_for(t.key) is not None for t in all_types())


@pytest.mark.parametrize("type_key", [t.key for t in all_types()])
async def test_statements_declare_the_parameters_they_take(
    conn: asyncpg.Connection, type_key: str
) -> None:
    statements = statements_for(type_key)
    assert statements is not None
    async with conn.transaction():
        await stage.create_tables(conn, statements.staging)
        await conn.execute(statements.staging.ddl(BATCH))
        if statements.batched is not None:
            await conn.execute(
                f"CREATE TEMPORARY TABLE {KEPT} ({statements.batched.kept_columns}) ON COMMIT DROP"
            )
        dry = _dry_copy(statements)
        if dry is not None:
            for ddl in dry.create:
                await conn.execute(ddl)
        for name, statement in _statements(statements):
            prepared = await conn.prepare(statement.sql)
            assert len(prepared.get_parameters()) == len(statement.params), name
