"""Imports end to end: upload through the API, the real worker runs the job, read the result."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup
from tests.importing import ADD_HEADER, count_cases, upload
from tests.worker_harness import import_after_worker


async def test_sample_file_imports_and_cases_are_listed(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    sample = await client.get("/api/import-types/cases.add/sample.csv")
    assert sample.status_code == 200
    assert sample.headers["content-type"].startswith("text/csv")
    assert "attachment" in sample.headers["content-disposition"]

    created = await upload(client, admin, sample.content)
    assert created["status"] == "queued"
    assert created["file"]["filename"] == "cases.csv"
    assert created["file"]["size_bytes"] == len(sample.content)
    assert created["created_by"] == admin.email

    done = await import_after_worker(client, admin.slug, created["id"], admin.headers)
    assert done["status"] == "completed", done
    assert done["result"] == {
        "rows": 2,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
        "deleted": 0,
        "blank_rows": 0,
        "sha256": created["file"]["sha256"],
    }
    assert done["progress"]["percent"] == 100.0
    assert done["error"] is None
    assert done["started_at"]
    assert done["finished_at"]

    cases = (await client.get(f"/api/apps/{admin.slug}/cases", headers=admin.headers)).json()
    assert sorted(c["tag_id"] for c in cases["items"]) == ["CASE-0001", "CASE-0002"]
    assert all(c["created_by_import"] == created["id"] for c in cases["items"])
    stats = (await client.get(f"/api/apps/{admin.slug}/cases/stats", headers=admin.headers)).json()
    assert stats == {"total": 2, "active": 1, "closed": 1}


async def test_bad_date_fails_whole_file_and_changes_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = (
        ADD_HEADER
        + "CASE-1,1,03/07/2024,First\r\n"
        + "CASE-2,1,02/30/2024,Second\r\n"
        + "CASE-3,active,2024-02-30,Third\r\n"
    ).encode()
    created = await upload(client, admin, content)
    done = await import_after_worker(client, admin.slug, created["id"], admin.headers)
    assert done["status"] == "failed"
    assert done["error"]["error_count"] == 2
    assert done["error"]["summary"].startswith("2 rows have errors. Line 3, date_opened: ")
    assert "is not a real date" in done["error"]["summary"]
    assert await count_cases(sessionmaker) == 0

    errors = (
        await client.get(
            f"/api/apps/{admin.slug}/imports/{created['id']}/errors", headers=admin.headers
        )
    ).json()
    assert [(e["line"], e["column"], e["value"], e["code"]) for e in errors["items"]] == [
        (3, "date_opened", "02/30/2024", "invalid_date"),
        (4, "date_opened", "2024-02-30", "invalid_date"),
    ]


async def test_on_error_skip_applies_good_rows(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = ADD_HEADER + "A-1,1,1/2/2024,One\r\nA-2,9,1/2/2024,Two\r\nA-3,0,1/2/2024,Three\r\n"
    created = await upload(client, admin, content.encode(), on_error="skip")
    done = await import_after_worker(client, admin.slug, created["id"], admin.headers)
    assert done["status"] == "completed"
    assert done["result"] == {
        "rows": 3,
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "failed": 1,
        "deleted": 0,
        "blank_rows": 0,
        "sha256": created["file"]["sha256"],
    }
    assert done["error"]["summary"].startswith("1 row has errors. Line 3, case_status:")
    assert await count_cases(sessionmaker) == 2


async def test_validate_only_reports_and_applies_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = ADD_HEADER + "A-1,1,1/2/2024,One\r\nA-2,0,1/2/2024,Two\r\n"
    created = await upload(client, admin, content.encode(), validate_only="true")
    assert created["validate_only"] is True
    done = await import_after_worker(client, admin.slug, created["id"], admin.headers)
    assert done["status"] == "completed"
    assert done["result"]["created"] == 2
    assert await count_cases(sessionmaker) == 0


async def test_same_corrected_file_twice_is_already_exists(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = (ADD_HEADER + "A-1,1,1/2/2024,One\r\n").encode()
    first = await upload(client, admin, content, name="first")
    assert (await import_after_worker(client, admin.slug, first["id"], admin.headers))[
        "status"
    ] == "completed"
    again = await upload(client, admin, content.replace(b"A-1", b"a-1"), name="again")
    done = await import_after_worker(client, admin.slug, again["id"], admin.headers)
    assert done["status"] == "failed"
    errors = (
        await client.get(
            f"/api/apps/{admin.slug}/imports/{again['id']}/errors", headers=admin.headers
        )
    ).json()["items"]
    assert [(e["line"], e["column"], e["code"]) for e in errors] == [
        (2, "tag_id", "already_exists"),
        (2, "about", "about_taken"),
    ]
    assert await count_cases(sessionmaker) == 1
