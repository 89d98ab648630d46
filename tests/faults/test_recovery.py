"""Scenarios 4, 5 and 6: a worker killed, stopped politely or frozen mid-import, PostgreSQL
restarted under a running import, and an import whose every attempt is killed."""

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
    wait_running_again,
    wait_status,
    worker_running,
)
from tests.faults.service import LEASE_SECONDS, RECONCILE_SECONDS, Service

SIGKILL_TARGET = 20.0
SIGTERM_TARGET = 5.0
SIGTERM_EXIT = 5.0
PG_RESTART_TARGET = 30.0
FROZEN_TARGET = LEASE_SECONDS + 20.0
GIVE_UP_TARGET = LEASE_SECONDS + 5.0


async def _completed_once(db: Database, app_id: uuid.UUID, import_id: uuid.UUID, rows: int) -> None:
    """Completed, every case created once: the count is the file's."""
    row = await db.import_row(import_id)
    assert row.status == "completed", row
    assert row.result is not None, row
    assert f'"created": {rows}' in row.result, row
    assert await db.cases(app_id) == rows


@pytest.mark.timeout(180)
async def test_sigkill_mid_import_runs_again_on_another_worker(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_workers(3)
    (app,) = await make_apps(1)
    made = case_files(files, BIG_ROWS, "KILL")
    import_id = await create_import(client, faults.api_urls[0], app, made.add.path, "cases.add")
    victim = await worker_running(db, faults, import_id)
    before = await db.import_row(import_id)
    say(f"SIGKILL {victim.name} running {before}")
    fault = victim.kill()
    again, took = await measure_recovery(
        "sigkill_mid_add",
        SIGKILL_TARGET,
        fault,
        wait_running_again(db, import_id, before.attempt, SIGKILL_TARGET + 30),
    )
    await wait_status(db, import_id, FINISHED, 120)
    await _completed_once(db, app.id, import_id, made.rows)
    assert took <= SIGKILL_TARGET, f"ran again after {took:.1f} s: {again}"


@pytest.mark.timeout(180)
async def test_sigterm_mid_import_hands_it_over_at_once(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_workers(3)
    (app,) = await make_apps(1)
    made = case_files(files, BIG_ROWS, "TERM")
    import_id = await create_import(client, faults.api_urls[1], app, made.add.path, "cases.add")
    victim = await worker_running(db, faults, import_id)
    before = await db.import_row(import_id)
    say(f"SIGTERM {victim.name} running {before}")
    fault = victim.terminate()
    again, took = await measure_recovery(
        "sigterm_mid_add",
        SIGTERM_TARGET,
        fault,
        wait_running_again(db, import_id, before.attempt, SIGKILL_TARGET + 30),
    )
    exited = victim.wait_exit(max(0.0, fault + SIGTERM_EXIT - time.monotonic()))
    exit_took = time.monotonic() - fault
    await wait_status(db, import_id, FINISHED, 120)
    await _completed_once(db, app.id, import_id, made.rows)
    problems = []
    if took > SIGTERM_TARGET:
        problems.append(
            f"ran again {took:.1f} s after SIGTERM (target {SIGTERM_TARGET:g} s): {again}"
        )
    if exited is None:
        problems.append(f"{victim.name} still running {exit_took:.1f} s after SIGTERM")
    assert not problems, "; ".join(problems)


@pytest.mark.timeout(180)
async def test_postgres_restart_mid_import(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_workers(3)
    (app,) = await make_apps(1)
    made = case_files(files, BIG_ROWS, "PGRS")
    import_id = await create_import(client, faults.api_urls[0], app, made.add.path, "cases.add")
    await worker_running(db, faults, import_id)
    answers: list[tuple[int, str | None, str]] = []
    done = asyncio.Event()

    async def poll() -> None:
        # Both APIs in turn, every 100 ms, until the import has finished.
        turn = 0
        while not done.is_set():
            url = f"{faults.api_urls[turn % 2]}/api/apps/{app.slug}/imports/{import_id}"
            turn += 1
            try:
                answer = await client.get(url, headers=app.headers(), timeout=10)
                answers.append(
                    (answer.status_code, answer.headers.get("Retry-After"), answer.text[:200])
                )
            except httpx.TransportError as exc:
                answers.append((0, None, repr(exc)))
            await asyncio.sleep(0.1)

    poller = asyncio.create_task(poll())
    say("pg_ctl restart -m fast under a running import")
    fault = time.monotonic()
    try:
        await faults.postgres.restart("fast")
        say(f"PostgreSQL is back after {time.monotonic() - fault:.1f} s")
        row, took = await measure_recovery(
            "postgres_restart_mid_add",
            PG_RESTART_TARGET,
            fault,
            wait_status(db, import_id, FINISHED, 120),
        )
        await asyncio.sleep(1)
    finally:
        done.set()
        await poller
    codes: dict[int, int] = {}
    for code, _, _ in answers:
        codes[code] = codes.get(code, 0) + 1
    say(f"GET answers during the restart: {codes}")
    bad = [a for a in answers if not (a[0] == 200 or (a[0] == 503 and a[1]))]
    problems = []
    if bad:
        problems.append(f"{len(bad)} answers other than 200 or 503 with Retry-After: {bad[:3]}")
    if row.status != "completed" or row.attempt > 2:
        problems.append(f"the import ended {row}")
    if took > PG_RESTART_TARGET:
        problems.append(f"finished {took:.1f} s after the restart (target {PG_RESTART_TARGET:g} s)")
    assert not problems, "; ".join(problems)
    await _completed_once(db, app.id, import_id, made.rows)


@pytest.mark.timeout(240)
async def test_frozen_worker_is_replaced_and_applies_nothing_when_thawed(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    faults.start_workers(3)
    (app,) = await make_apps(1)
    made = case_files(files, BIG_ROWS, "STOP")
    import_id = await create_import(client, faults.api_urls[0], app, made.add.path, "cases.add")
    victim = await worker_running(db, faults, import_id)
    before = await db.import_row(import_id)
    say(f"SIGSTOP {victim.name} running {before}")
    fault = victim.freeze()
    try:
        again, took = await measure_recovery(
            "sigstop_mid_add",
            FROZEN_TARGET,
            fault,
            wait_running_again(db, import_id, before.attempt, FROZEN_TARGET + 10),
        )
        row = await wait_status(db, import_id, FINISHED, 120)
        assert row.status == "completed", row
    finally:
        say(f"SIGCONT {victim.name}")
        victim.thaw()
    # The thawed worker carries on where it was frozen: it must find itself superseded.
    await asyncio.sleep(RECONCILE_SECONDS + 3)
    await _completed_once(db, app.id, import_id, made.rows)
    assert took <= FROZEN_TARGET, f"ran again after {took:.1f} s: {again}"


@pytest.mark.timeout(240)
async def test_three_crashes_fail_the_import(
    faults: Service, db: Database, client: httpx.AsyncClient, make_apps: MakeApps, files: Path
) -> None:
    attempts = 3
    faults.start_workers(3, max_attempts=attempts)
    (app,) = await make_apps(1)
    made = case_files(files, BIG_ROWS, "CRSH")
    import_id = await create_import(client, faults.api_urls[1], app, made.add.path, "cases.add")
    fault = time.monotonic()
    for crash in range(1, attempts + 1):
        await wait_status(db, import_id, ["validating", "applying"], 60, min_attempt=crash)
        victim = await worker_running(db, faults, import_id)
        say(f"crash {crash}: SIGKILL {victim.name} running {await db.import_row(import_id)}")
        fault = victim.kill()
        faults.start_worker(max_attempts=attempts)
    row, took = await measure_recovery(
        "three_crashes_fail",
        GIVE_UP_TARGET,
        fault,
        wait_status(db, import_id, FINISHED, GIVE_UP_TARGET + 30),
    )
    assert row.status == "failed", row
    assert row.attempt == attempts, row
    assert row.error_summary is not None, row
    assert "3 times" in row.error_summary, row
    assert row.error_count == 0, row
    assert await db.cases(app.id) == 0
    assert took <= GIVE_UP_TARGET, f"failed {took:.1f} s after the last crash"
