"""Scenarios 1, 2 and 7: per-app order through crashes. An app's modify of the cases its add
creates must run after that add has completed, however the add's worker died, and however
many apps import at once."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.faults.conftest import MakeApps
from tests.faults.harness import (
    BIG_ROWS,
    FINISHED,
    App,
    CaseFiles,
    Database,
    case_files,
    create_import,
    measure_recovery,
    say,
    wait_for,
    wait_running_again,
    wait_status,
    worker_running,
)
from tests.faults.service import Service

SIGKILL_TARGET = 20.0
APPS = 20
SMALL_ROWS = 2_000
TWENTY_APPS_TARGET = 90.0


async def assert_add_then_modify(
    db: Database, app: App, made: CaseFiles, add_id: uuid.UUID, modify_id: uuid.UUID
) -> None:
    """Both completed, the modify after the add, every case created once and modified as the
    modify file says."""
    add = await db.import_row(add_id)
    modify = await db.import_row(modify_id)
    assert add.status == "completed", add
    assert modify.status == "completed", (modify, await db.error_codes(modify_id))
    assert add.result is not None
    assert f'"created": {made.rows}' in add.result, add
    assert modify.result is not None
    assert f'"updated": {made.rows}' in modify.result, modify
    assert modify.started_at >= add.finished_at, f"the modify ran before the add: {add} / {modify}"
    assert await db.cases(app.id) == made.rows
    assert await db.modified(app.id) == (made.rows, made.modify.active)


async def _order_broken(
    db: Database, violations: list[str], add_id: uuid.UUID, modify_id: uuid.UUID
) -> str:
    return (
        f"the modify ran before the add completed: {violations[0]} ({len(violations)} samples);"
        f" in the end: {await db.import_row(add_id)} / {await db.import_row(modify_id)},"
        f" the modify's error codes {await db.error_codes(modify_id)}"
    )


class OrderWatch:
    """Samples both imports every 50 ms: did the modify ever run before the add completed?"""

    def __init__(self, db: Database, add_id: uuid.UUID, modify_id: uuid.UUID) -> None:
        self.db, self.add_id, self.modify_id = db, add_id, modify_id
        self.violations: list[str] = []
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            # Both in one statement, one snapshot: never an add read before it completed with
            # a modify read after it started.
            rows = await self.db.fetch(
                "SELECT id, status, attempt FROM imports WHERE id = ANY($1)",
                [self.add_id, self.modify_id],
            )
            add, modify = sorted(rows, key=lambda row: row["id"] != self.add_id)
            if add["status"] != "completed" and modify["status"] != "queued":
                self.violations.append(
                    f"the modify {modify['status']} (attempt {modify['attempt']}) while the add"
                    f" was {add['status']} (attempt {add['attempt']})"
                )
            if add["status"] in FINISHED and modify["status"] in FINISHED:
                return
            await asyncio.sleep(0.05)

    async def stop(self) -> list[str]:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.violations


@pytest.mark.timeout(240)
async def test_one_slot_sigkill_mid_add_then_modify_behind_it(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_worker(worker_concurrency=1)
    (app,) = await make_apps(1)
    made = case_files(files, BIG_ROWS, "ONE")
    add_id = await create_import(client, faults.api_urls[0], app, made.add.path, "cases.add")
    modify_id = await create_import(
        client, faults.api_urls[1], app, made.modify.path, "cases.modify"
    )
    victim = await worker_running(db, faults, add_id)
    before = await db.import_row(add_id)
    say(f"SIGKILL {victim.name} (the only worker, one slot) running {before}")
    fault = victim.kill()
    faults.start_worker(worker_concurrency=1)
    watch = OrderWatch(db, add_id, modify_id)
    try:
        again, took = await measure_recovery(
            "sigkill_one_slot_add_then_modify",
            SIGKILL_TARGET,
            fault,
            wait_running_again(db, add_id, before.attempt, SIGKILL_TARGET + 25),
        )
        await wait_status(db, add_id, FINISHED, 60)
        await wait_status(db, modify_id, FINISHED, 60, what="the modify queued behind the add")
    finally:
        violations = await watch.stop()
    assert not violations, await _order_broken(db, violations, add_id, modify_id)
    await assert_add_then_modify(db, app, made, add_id, modify_id)
    assert took <= SIGKILL_TARGET, f"ran again after {took:.1f} s: {again}"


@pytest.mark.timeout(240)
async def test_two_workers_sigkill_add_modify_waits_for_it(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_workers(2, worker_concurrency=1)
    (app,) = await make_apps(1)
    made = case_files(files, BIG_ROWS, "TWO")
    add_id = await create_import(client, faults.api_urls[0], app, made.add.path, "cases.add")
    modify_id = await create_import(
        client, faults.api_urls[1], app, made.modify.path, "cases.modify"
    )
    watch = OrderWatch(db, add_id, modify_id)
    try:
        victim = await worker_running(db, faults, add_id)
        before = await db.import_row(add_id)
        say(f"SIGKILL {victim.name} running {before}; the other worker holds the modify's job")
        fault = victim.kill()
        # As a supervisor would: two workers again.
        faults.start_worker(worker_concurrency=1)
        again, took = await measure_recovery(
            "sigkill_add_modify_on_other_worker",
            SIGKILL_TARGET,
            fault,
            wait_running_again(db, add_id, before.attempt, SIGKILL_TARGET + 25),
        )
        await wait_status(db, add_id, FINISHED, 60)
        await wait_status(db, modify_id, FINISHED, 60, what="the modify of the add's cases")
    finally:
        violations = await watch.stop()
    assert not violations, await _order_broken(db, violations, add_id, modify_id)
    await assert_add_then_modify(db, app, made, add_id, modify_id)
    assert took <= SIGKILL_TARGET, f"ran again after {took:.1f} s: {again}"


@pytest.mark.timeout(240)
async def test_twenty_apps_at_once_keep_their_order(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_workers(3)
    apps = await make_apps(APPS)
    # The same cases in every app: tags are unique per app, so the files can be shared.
    made = case_files(files, SMALL_ROWS, "MANY")
    start = time.monotonic()

    async def add_then_modify(index: int, app: App) -> tuple[uuid.UUID, uuid.UUID]:
        url = faults.api_urls[index % 2]
        add_id = await create_import(client, url, app, made.add.path, "cases.add")
        modify_id = await create_import(client, url, app, made.modify.path, "cases.modify")
        return add_id, modify_id

    pairs = await asyncio.gather(*(add_then_modify(i, app) for i, app in enumerate(apps)))
    say(f"{2 * APPS} imports uploaded in {time.monotonic() - start:.1f} s")
    every = [i for pair in pairs for i in pair]

    async def all_finished() -> bool:
        finished = await db.fetchval(
            "SELECT count(*) FROM imports WHERE id = ANY($1) AND status = ANY($2)",
            every,
            list(FINISHED),
        )
        return bool(finished == len(every))

    _, took = await measure_recovery(
        "twenty_apps_add_then_modify",
        TWENTY_APPS_TARGET,
        start,
        wait_for(f"{len(every)} imports of {APPS} apps to finish", all_finished, 180),
    )
    for app, (add_id, modify_id) in zip(apps, pairs, strict=True):
        await assert_add_then_modify(db, app, made, add_id, modify_id)
    assert took <= TWENTY_APPS_TARGET
