"""Planner statistics that do not know an app's cases are refreshed before its import is
planned: a plan sized for a handful of cases scans them all once per row of a batch."""

from __future__ import annotations

import logging
import uuid

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from tests.factories import admin_setup
from tests.importing import ADD_HEADER, import_file
from worker.pipeline import planner

CASES = 3_000


def _rows(prefix: str) -> str:
    return "".join(f"{prefix}-{n},1,1/2/2024,{prefix} case {n}\r\n" for n in range(CASES))


async def _believed(settings: Settings, app_id: uuid.UUID) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await planner.planner_rows(conn, "cases", app_id)
    finally:
        await conn.close()


async def test_a_modify_of_cases_the_statistics_do_not_know_analyzes_them_first(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Statistics taken while another app held every case, then a new app's cases added after:
    # what autovacuum leaves behind when the new cases are under a tenth of the table.
    known = await admin_setup(sessionmaker, "known", "known@example.org")
    assert (await import_file(client, known, ADD_HEADER + _rows("K")))["status"] == "completed"
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("ANALYZE cases")
    finally:
        await conn.close()
    new = await admin_setup(sessionmaker, "new", "new@example.org")
    assert (await import_file(client, new, ADD_HEADER + _rows("N")))["status"] == "completed"
    assert await _believed(settings, new.app_id) < CASES // 10  # the trap is set

    modify = "tag_id,case_status\r\n" + "".join(f"N-{n},0\r\n" for n in range(CASES))
    with caplog.at_level(logging.INFO, logger=planner.__name__):
        done = await import_file(client, new, modify, type_="cases.modify", name="close all")

    assert done["status"] == "completed", done
    assert done["result"]["updated"] == CASES
    assert f"the planner believed app {new.app_id}" in caplog.text
    assert await _believed(settings, new.app_id) >= CASES // 2


async def test_statistics_that_know_the_app_are_left_as_they_are(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    admin = await admin_setup(sessionmaker)
    assert (await import_file(client, admin, ADD_HEADER + _rows("T")))["status"] == "completed"
    conn = await asyncpg.connect(settings.database_url)
    try:
        await conn.execute("ANALYZE cases")
        assert not await planner.refresh_if_stale(conn, "cases", admin.app_id)
        # An app with no cases yet: nothing to know.
        other = await admin_setup(sessionmaker, "empty", "empty@example.org")
        assert not await planner.refresh_if_stale(conn, "cases", other.app_id)
    finally:
        await conn.close()


async def test_the_count_stops_at_the_probe_size(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = await admin_setup(sessionmaker)
    assert (await import_file(client, admin, ADD_HEADER + _rows("T")))["status"] == "completed"
    conn = await asyncpg.connect(settings.database_url)
    try:
        assert await planner.bounded_count(conn, "cases", admin.app_id) == CASES
        monkeypatch.setattr(planner, "PROBE_ROWS", 1_000)
        assert await planner.bounded_count(conn, "cases", admin.app_id) == 1_000
        # The settings that force the index end with the count.
        assert await conn.fetchval("SHOW enable_seqscan") == "on"
    finally:
        await conn.close()
