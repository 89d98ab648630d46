"""Scenario 8: ten uploads of one file at once, with one Idempotency-Key, across both APIs."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import MakeApps
from tests.faults.harness import (
    FINISHED,
    Database,
    case_files,
    recovery,
    upload,
    wait_status,
)
from tests.faults.service import Service

UPLOADS = 10
ROWS = 2_000
COMPLETED_TARGET = 30.0


@pytest.mark.timeout(120)
async def test_parallel_uploads_with_one_key_make_one_import(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_workers(3)
    (app,) = await make_apps(1)
    made = case_files(files, ROWS, "IDEM")
    start = time.monotonic()

    async def one(index: int) -> httpx.Response:
        # A client retrying a 409 (the first request still being stored), as caseimport push does.
        url = faults.api_urls[index % len(faults.api_urls)]
        for _ in range(100):
            answer = await upload(
                client, url, app, made.add.path, "cases.add", name="idem", idempotency_key="k-1"
            )
            if answer.status_code != 409:
                return answer
            await asyncio.sleep(0.1)
        return answer

    answers = await asyncio.gather(*(one(i) for i in range(UPLOADS)))
    codes = sorted(a.status_code for a in answers)
    assert codes == [200] * (UPLOADS - 1) + [201], [(a.status_code, a.text[:200]) for a in answers]
    ids = {a.json()["id"] for a in answers}
    assert len(ids) == 1, ids
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == UPLOADS - 1
    assert await db.fetchval("SELECT count(*) FROM imports WHERE app_id = $1", app.id) == 1
    # One stored file too: the repeats were compared with it, not kept.
    assert await db.fetchval("SELECT count(*) FROM files") == await db.fetchval(
        "SELECT count(DISTINCT file_id) FROM imports WHERE file_id IS NOT NULL"
    )
    row = await wait_status(db, uuid.UUID(ids.pop()), FINISHED, 60)
    assert row.status == "completed", row
    assert await db.cases(app.id) == ROWS
    # No fault to recover from: the line times the ten uploads to the one import completed.
    recovery("idempotent_parallel_uploads", time.monotonic() - start, COMPLETED_TARGET)
