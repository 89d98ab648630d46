"""Scenario 3: Redis goes away for ten seconds, with one worker busy and two idle, and comes
back empty (it keeps nothing on disk). Workers ride it out; PostgreSQL still knows every import."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import MakeApps
from tests.faults.harness import (
    BIG_ROWS,
    FINISHED,
    Database,
    case_files,
    create_import,
    measure_recovery,
    say,
    upload,
    wait_status,
    worker_running,
)
from tests.faults.service import Service

OUTAGE_SECONDS = 10.0
SMALL_ROWS = 2_000
# From Redis back to a new upload completed: the reconciler's grace for queued imports (10 s)
# plus its period, at most.
AFTER_BLIP_TARGET = 15.0


@pytest.mark.timeout(180)
async def test_redis_blip_leaves_workers_running(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    workers = faults.start_workers(3)
    busy_app, idle_app = await make_apps(2)
    big = case_files(files, BIG_ROWS, "BLIP")
    small = case_files(files, SMALL_ROWS, "AFTER")
    busy_id = await create_import(client, faults.api_urls[0], busy_app, big.add.path, "cases.add")
    busy = await worker_running(db, faults, busy_id)
    say(f"stopping Redis for {OUTAGE_SECONDS:g} s; {busy.name} is running an import")
    faults.redis.stop()
    await asyncio.sleep(OUTAGE_SECONDS / 2)
    # The API keeps taking uploads: they wait as queued in PostgreSQL.
    during = await upload(
        client, faults.api_urls[1], idle_app, small.add.path, "cases.add", name="during"
    )
    assert during.status_code == 201, during.text
    await asyncio.sleep(OUTAGE_SECONDS / 2)
    say("starting Redis again, empty, on the same port")
    faults.redis.start()
    back = time.monotonic()
    await asyncio.sleep(3)
    exited = {w.name: w.exit_code() for w in workers if not w.alive()}
    if exited:
        # Measured anyway: whatever is left (nothing, if they all exited) runs the next upload.
        say(f"workers exited with Redis away for {OUTAGE_SECONDS:g} s: {exited}")
    after = await upload(
        client, faults.api_urls[0], idle_app, small.modify.path, "cases.modify", name="after"
    )
    assert after.status_code == 201, after.text
    waiting = wait_status(
        db,
        uuid.UUID(after.json()["id"]),
        FINISHED,
        AFTER_BLIP_TARGET + 15,
        what="an upload made after Redis came back",
    )
    try:
        row, took = await measure_recovery(
            "redis_blip_new_upload", AFTER_BLIP_TARGET, back, waiting
        )
    except AssertionError as exc:
        raise AssertionError(
            f"workers exited with Redis away for {OUTAGE_SECONDS:g} s: {exited}; {exc}"
            if exited
            else str(exc)
        ) from None
    assert not exited, f"workers exited with Redis away for {OUTAGE_SECONDS:g} s: {exited}"
    assert row.status == "completed", row
    busy_row = await wait_status(db, busy_id, FINISHED, 60)
    assert busy_row.status == "completed", busy_row
    assert await db.cases(busy_app.id) == big.rows
    assert await db.cases(idle_app.id) == small.rows
    assert await db.modified(idle_app.id) == (small.rows, small.modify.active)
    exited = {w.name: w.exit_code() for w in workers if not w.alive()}
    assert not exited, f"workers exited after the blip: {exited}"
    assert took <= AFTER_BLIP_TARGET
