"""Files past the retention time lose their content to the worker's purge (their description
stays), never while an import that holds them is unfinished (a check again shares the file of
the import it checks again), and one worker purges at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.pg import Pool
from tests.factories import AdminSetup, admin_setup, assert_problem
from tests.importing import ADD_HEADER, get_import, upload
from tests.worker_harness import run_worker
from worker.purge import PURGE_LOCK, purge_old_files

CONTENT = (ADD_HEADER + "P-1,1,1/2/2024,Purged one day\r\n").encode()


def _content(name: str) -> bytes:
    """A file of one case of its own (tags and descriptions are unique in an app)."""
    return (ADD_HEADER + f"P-{name},1,1/2/2024,The case of {name}\r\n").encode()


RETENTION_DAYS = 90


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[Pool]:
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2)
    yield pool
    await pool.close()


async def _age(pool: Pool, import_id: str, days: int) -> None:
    """Every file of the import stored, and attached to it, ``days`` days ago."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """UPDATE files SET created_at = now() - make_interval(days => $2)
               WHERE id IN (SELECT file_id FROM import_files WHERE import_id = $1)""",
            uuid.UUID(import_id),
            days,
        )
        await conn.execute(
            """UPDATE import_files SET attached_at = now() - make_interval(days => $2)
               WHERE import_id = $1""",
            uuid.UUID(import_id),
            days,
        )


async def _chunks(pool: Pool, import_id: str) -> int:
    count: int = await pool.fetchval(
        """SELECT count(*) FROM file_chunks WHERE file_id IN (
               SELECT file_id FROM import_files WHERE import_id = $1)""",
        uuid.UUID(import_id),
    )
    return count


async def _imported(client: AsyncClient, admin: AdminSetup, name: str) -> str:
    created = await upload(client, admin, _content(name), name=name)
    await run_worker()
    assert (await get_import(client, admin, created["id"]))["status"] == "completed"
    return str(created["id"])


async def test_an_old_file_of_a_finished_import_is_purged_and_still_described(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], pool: Pool
) -> None:
    admin = await admin_setup(sessionmaker)
    old = await _imported(client, admin, "old")
    recent = await _imported(client, admin, "recent")
    await _age(pool, old, RETENTION_DAYS + 1)
    await _age(pool, recent, RETENTION_DAYS - 1)

    assert await purge_old_files(pool, RETENTION_DAYS) == 1
    assert await purge_old_files(pool, RETENTION_DAYS) == 0  # done once

    assert await _chunks(pool, old) == 0
    item = await get_import(client, admin, old)
    assert item["file"]["filename"] == "cases.csv"
    assert item["file"]["size_bytes"] == len(_content("old"))
    assert item["file"]["purged_at"] is not None
    base = f"/api/apps/{admin.slug}/imports/{old}"
    gone = assert_problem(
        await client.get(f"{base}/file", headers=admin.headers), 410, "file_purged"
    )
    assert "cases.csv" in gone["detail"]
    assert_problem(await client.get(f"{base}/files/1", headers=admin.headers), 410, "file_purged")
    [listed] = (await client.get(f"{base}/files", headers=admin.headers)).json()["items"]
    assert listed["purged_at"] == item["file"]["purged_at"]

    assert await _chunks(pool, recent) > 0
    kept = await get_import(client, admin, recent)
    assert kept["file"]["purged_at"] is None
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{recent}/file", headers=admin.headers
    )
    assert response.content == _content("recent")


async def test_the_file_of_an_unfinished_import_is_never_purged(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], pool: Pool
) -> None:
    admin = await admin_setup(sessionmaker)
    waiting = await upload(client, admin, CONTENT, name="waiting")  # queued: no worker ran
    await _age(pool, waiting["id"], RETENTION_DAYS * 3)

    assert await purge_old_files(pool, RETENTION_DAYS) == 0
    assert await _chunks(pool, waiting["id"]) > 0

    await run_worker()  # it reads its file in full
    assert (await get_import(client, admin, waiting["id"]))["status"] == "completed"
    assert await purge_old_files(pool, RETENTION_DAYS) == 1


async def test_many_old_files_are_purged_batch_by_batch(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], pool: Pool
) -> None:
    admin = await admin_setup(sessionmaker)
    ids = [
        str((await upload(client, admin, _content(f"n{n}"), name=f"n{n}"))["id"]) for n in range(45)
    ]
    await run_worker()
    for import_id in ids:
        await _age(pool, import_id, RETENTION_DAYS + 1)

    assert await purge_old_files(pool, RETENTION_DAYS) == 45  # three batches of up to 20
    assert [await _chunks(pool, i) for i in ids] == [0] * 45


async def test_one_worker_purges_at_a_time(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], pool: Pool
) -> None:
    admin = await admin_setup(sessionmaker)
    old = await _imported(client, admin, "old")
    await _age(pool, old, RETENTION_DAYS + 1)

    async with pool.acquire() as other:
        await other.execute("SELECT pg_advisory_lock($1)", PURGE_LOCK)
        try:
            assert await purge_old_files(pool, RETENTION_DAYS) == 0
        finally:
            await other.execute("SELECT pg_advisory_unlock($1)", PURGE_LOCK)
    assert await _chunks(pool, old) > 0
    assert await purge_old_files(pool, RETENTION_DAYS) == 1


async def test_the_rows_of_a_purged_file_can_no_longer_be_read(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], pool: Pool
) -> None:
    admin = await admin_setup(sessionmaker)
    bad = (ADD_HEADER + "P-9,7,1/2/2024,Bad status\r\n").encode()
    created = await upload(client, admin, bad, name="bad", on_error="skip")
    await run_worker()
    await _age(pool, created["id"], RETENTION_DAYS + 1)
    assert await purge_old_files(pool, RETENTION_DAYS) == 1
    base = f"/api/apps/{admin.slug}/imports/{created['id']}"
    failed_rows = await client.get(f"{base}/failed-rows.csv", headers=admin.headers)
    assert_problem(failed_rows, 410, "file_purged")

    failed = await upload(client, admin, bad, name="failed")
    await run_worker()
    await _age(pool, failed["id"], RETENTION_DAYS + 1)
    assert await purge_old_files(pool, RETENTION_DAYS) == 1
    corrections = await client.post(
        f"/api/apps/{admin.slug}/imports/{failed['id']}/corrections",
        json={"2": {"case_status": "1"}},
        headers=admin.headers,
    )
    assert_problem(corrections, 410, "file_purged")


async def _plan(client: AsyncClient, admin: AdminSetup) -> dict[str, object]:
    created = await upload(client, admin, _content("plan"), name="plan", validate_only="true")
    await run_worker()
    plan = await get_import(client, admin, created["id"])
    assert plan["status"] == "completed", plan
    return plan


async def test_a_file_shared_by_a_check_again_is_kept_until_that_check_is_finished(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], pool: Pool
) -> None:
    admin = await admin_setup(sessionmaker)
    plan = await _plan(client, admin)
    again = await client.post(
        f"/api/apps/{admin.slug}/imports/{plan['id']}/check-again", headers=admin.headers
    )
    assert again.status_code == 201, again.text  # queued: no worker ran
    await _age(pool, str(plan["id"]), RETENTION_DAYS * 3)

    assert await purge_old_files(pool, RETENTION_DAYS) == 0
    assert await _chunks(pool, again.json()["id"]) > 0

    await run_worker()  # it reads the shared file in full
    checked = await get_import(client, admin, again.json()["id"])
    assert checked["status"] == "completed", checked
    assert checked["result"] == plan["result"]
    # Checked again today: the file is kept as long as a file uploaded today.
    assert await purge_old_files(pool, RETENTION_DAYS - 1) == 0
    await _age(pool, str(checked["id"]), RETENTION_DAYS + 1)
    assert await purge_old_files(pool, RETENTION_DAYS) == 1  # one file, held by both
    assert await _chunks(pool, str(plan["id"])) == 0
    assert (await get_import(client, admin, checked["id"]))["file"]["purged_at"] is not None


async def test_a_check_of_a_purged_file_cannot_be_checked_again(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], pool: Pool
) -> None:
    admin = await admin_setup(sessionmaker)
    plan = await _plan(client, admin)
    await _age(pool, str(plan["id"]), RETENTION_DAYS + 1)
    assert await purge_old_files(pool, RETENTION_DAYS) == 1

    again = await client.post(
        f"/api/apps/{admin.slug}/imports/{plan['id']}/check-again", headers=admin.headers
    )
    refused = assert_problem(again, 409, "file_purged")
    assert "upload it again in a new check" in refused["detail"]
    listed = (await client.get(f"/api/apps/{admin.slug}/imports", headers=admin.headers)).json()
    assert [i["name"] for i in listed["items"]] == ["plan"]
