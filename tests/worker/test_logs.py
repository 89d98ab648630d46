"""The worker's logs with CASEIMPORT_LOG_FORMAT=json, as an operator's log shipper reads them:
one JSON object a line (arq's lines too), each import's start and end with its ids, type,
status, counts and duration, and every line logged while an import runs naming it."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AdminSetup, admin_setup
from tests.importing import ADD_HEADER, get_import, upload
from tests.log_lines import start_worker

GOOD = ADD_HEADER + "L-1,1,1/13/2024,Logged one\r\nL-2,0,1/14/2024,Logged two\r\n"
BAD = ADD_HEADER + "L-3,9,1/13/2024,Bad status\r\nL-4,1,1/15/2024,Good but not applied\r\n"


async def test_json_lines_tell_each_import_start_and_end(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    good = (await upload(client, admin, GOOD.encode(), name="good"))["id"]
    bad = (await upload(client, admin, BAD.encode(), name="bad"))["id"]
    worker = start_worker(tmp_path, CASEIMPORT_LOG_FORMAT="json")
    try:
        async with asyncio.timeout(60):
            while not all([await _finished(client, admin, one) for one in (good, bad)]):
                assert worker.process.poll() is None, worker.text()
                await asyncio.sleep(0.1)
    finally:
        worker.stop()

    records = worker.records()
    assert any(r["logger"].startswith("arq") for r in records), "arq's lines are JSON too"
    app = str(admin.app_id)

    started, finished = _start_and_end(records, good)
    assert (started["type"], started["app_id"], started["attempt"]) == ("cases.add", app, 1)
    assert (started["validate_only"], started["on_error"]) == (False, "fail")
    assert finished["status"] == "completed"
    assert finished["counts"] == {
        "rows": 2, "created": 2, "updated": 0, "unchanged": 0, "failed": 0, "deleted": 0,
        "blank_rows": 0,
    }  # fmt: skip
    assert finished["error_rows"] == 0
    assert isinstance(finished["duration_ms"], float)
    assert finished["duration_ms"] > 0

    _, finished = _start_and_end(records, bad)
    assert (finished["status"], finished["app_id"]) == ("failed", app)
    assert (finished["counts"]["rows"], finished["error_rows"]) == (2, 1)

    # The import's other lines (its timings) name it too.
    timing = [r for r in records if r["logger"] == "worker.timing"]
    assert {r.get("import_id") for r in timing} == {good, bad}, timing


async def _finished(client: AsyncClient, admin: AdminSetup, import_id: str) -> bool:
    return (await get_import(client, admin, import_id))["status"] in {"completed", "failed"}


def _start_and_end(
    records: list[dict[str, Any]], import_id: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    mine = [r for r in records if r.get("import_id") == import_id]
    messages = [r["message"] for r in mine if r["logger"] == "worker.imports"]
    assert messages == ["import started", "import finished"], mine
    started, finished = (r for r in mine if r["logger"] == "worker.imports")
    return started, finished
