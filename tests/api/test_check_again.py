"""Checking a check-only import's stored file again (``POST .../check-again``): a new check of the
same file, shared and not uploaded again, with the same type, options and column mapping, for a
plan of the cases as they are now. Through the API and the real worker."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.imports.models import StoredFile
from tests.api.test_changes import MIXED, MIXED_COUNTS, changes_of, counted, seeded, stale_plan
from tests.factories import (
    AdminSetup,
    admin_setup,
    assert_problem,
    bearer,
    make_member,
    make_token,
    make_user,
)
from tests.importing import case_fields, errors_of, get_import, import_file, upload
from tests.worker_harness import run_worker


async def check_again(client: AsyncClient, admin: AdminSetup, import_id: str, **body: Any) -> Any:
    return await client.post(
        f"/api/apps/{admin.slug}/imports/{import_id}/check-again",
        json=body or None,
        headers=admin.headers,
    )


async def checked_again(
    client: AsyncClient, admin: AdminSetup, import_id: str, **body: Any
) -> dict[str, Any]:
    """POST check-again, run the worker, and answer the new check as it ended."""
    response = await check_again(client, admin, import_id, **body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    await run_worker()
    return await get_import(client, admin, response.json()["id"])


async def stored_files(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(StoredFile)) or 0)


async def test_a_stale_plan_checked_again_plans_the_cases_as_they_are_now_and_applies(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin, plan = await stale_plan(client, sessionmaker)
    base = f"/api/apps/{admin.slug}/imports"
    stale = await client.post(f"{base}/{plan['id']}/apply", headers=admin.headers)
    assert_problem(stale, 409, "plan_stale")
    files_before = await stored_files(sessionmaker)

    again = await checked_again(client, admin, plan["id"])
    assert again["status"] == "completed", again
    assert (again["name"], again["type"], again["validate_only"], again["checks_again"]) == (
        "plan (checked again)",
        "cases.upsert",
        True,
        plan["id"],
    )
    # The same stored file, not a copy: listed as the new check's own, and downloadable.
    assert await stored_files(sessionmaker) == files_before
    assert again["file"]["sha256"] == plan["file"]["sha256"]
    assert again["result"]["sha256"] == plan["result"]["sha256"]
    [listed] = (await client.get(f"{base}/{again['id']}/files", headers=admin.headers)).json()[
        "items"
    ]
    assert (listed["filename"], listed["sha256"]) == ("cases.csv", plan["file"]["sha256"])
    download = await client.get(f"{base}/{again['id']}/file", headers=admin.headers)
    assert download.content == MIXED.encode()
    assert (await get_import(client, admin, plan["id"]))["checked_again_by"] == again["id"]

    # The same rows, planned against C-3 as the edit left it.
    assert counted(again["result"]) == MIXED_COUNTS
    c3 = [c for c in await changes_of(client, admin, again["id"]) if c["tag_id"] == "C-3"]
    assert [(f["field"], f["old"], f["new"]) for f in c3[0]["fields"]] == [
        ("date_opened", "2024-03-07", "2024-03-09"),
        ("about", "Loud noise", "Noise at night"),
    ]

    applied = await client.post(f"{base}/{again['id']}/apply", headers=admin.headers)
    assert applied.status_code == 201, applied.text
    await run_worker()
    done = await get_import(client, admin, applied.json()["id"])
    assert done["status"] == "completed", done
    after = await case_fields(sessionmaker)
    assert (after["C-1"][0], after["C-3"][2], after["C-4"][2]) == (0, "Noise at night", "Pothole")

    # Checked again twice, and a check again checked again: numbered, never a longer name.
    second = await checked_again(client, admin, plan["id"])
    third = await checked_again(client, admin, again["id"])
    assert (second["name"], third["name"]) == (
        "plan (checked again) (2)",
        "plan (checked again) (3)",
    )
    assert (await get_import(client, admin, plan["id"]))["checked_again_by"] == second["id"]
    assert (await get_import(client, admin, again["id"]))["checked_again_by"] == third["id"]
    named = await checked_again(client, admin, plan["id"], name="April, once more")
    assert named["name"] == "April, once more"
    assert_problem(await check_again(client, admin, plan["id"], name="edit"), 409, "name_taken")


# A mapped header, day-first dates, Windows-1252 text and a bad row that is skipped.
MAPPING = (
    '{"Case Number": "tag_id", "State": "case_status", "Opened": "date_opened", "Notes": null}'
)
MAPPED = (
    "Case Number,State,Opened,About,Notes\r\n"
    "M-1,1,13/01/2024,Café roof,ignored\r\n"
    "M-2,9,14/01/2024,Bad status,ignored\r\n"
).encode("cp1252")


async def test_the_options_and_the_column_mapping_are_carried_over(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    check = await import_file(
        client,
        admin,
        MAPPED,
        name="mapped",
        validate_only="true",
        on_error="skip",
        date_order="dmy",
        encoding="cp1252",
        columns=MAPPING,
    )
    assert check["status"] == "completed", check
    assert (check["result"]["created"], check["result"]["failed"]) == (1, 1)

    again = await checked_again(client, admin, check["id"])
    assert again["status"] == "completed", again
    options = ("on_error", "date_order", "encoding", "sheet", "columns", "type", "validate_only")
    assert {k: again[k] for k in options} == {k: check[k] for k in options}
    assert again["columns"] == {
        "Case Number": "tag_id",
        "State": "case_status",
        "Opened": "date_opened",
        "Notes": None,
    }
    assert again["file"]["encoding"] == "cp1252"
    assert again["result"] == check["result"]
    assert [(e["line"], e["code"]) for e in await errors_of(client, admin, again["id"])] == [
        (e["line"], e["code"]) for e in await errors_of(client, admin, check["id"])
    ]
    created = [c for c in await changes_of(client, admin, again["id"]) if c["action"] == "create"]
    assert [(f["field"], f["new"]) for f in created[0]["fields"]] == [
        ("case_status", 1),
        ("date_opened", "2024-01-13"),
        ("about", "Café roof"),
    ]
    assert await case_fields(sessionmaker) == {}  # checks change nothing


async def test_a_failed_check_is_checked_again_once_the_case_it_met_is_gone(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    seed = await import_file(
        client,
        admin,
        "tag_id,case_status,date_opened,about\r\nF-1,1,1/2/2024,First\r\n",
        name="seed",
    )
    check = await import_file(
        client,
        admin,
        "tag_id,case_status,date_opened,about\r\nF-1,1,1/3/2024,Again\r\n",
        name="add F-1",
        validate_only="true",
    )
    assert check["status"] == "failed", check
    revert = await client.post(
        f"/api/apps/{admin.slug}/imports/{seed['id']}/revert", headers=admin.headers
    )
    assert revert.status_code == 201, revert.text
    await run_worker()

    again = await checked_again(client, admin, check["id"])
    assert again["status"] == "completed", again
    assert (again["result"]["created"], again["result"]["failed"]) == (1, 0)
    assert again["checks_again"] == check["id"]


async def test_what_cannot_be_checked_again_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    applied = await import_file(
        client, admin, "tag_id,about\r\nC-1,Mended\r\n", type_="cases.modify", name="applied"
    )
    refused = assert_problem(await check_again(client, admin, applied["id"]), 409, "not_a_plan")
    assert "check-only" in refused["detail"]
    queued = await upload(
        client, admin, MIXED.encode(), type_="cases.upsert", name="queued", validate_only="true"
    )
    unfinished = assert_problem(await check_again(client, admin, queued["id"]), 409, "not_a_plan")
    assert "this one is queued" in unfinished["detail"]
    cancel = await client.post(
        f"/api/apps/{admin.slug}/imports/{queued['id']}/cancel", headers=admin.headers
    )
    assert cancel.status_code == 200, cancel.text
    assert_problem(await check_again(client, admin, queued["id"]), 409, "not_a_plan")
    missing = await check_again(client, admin, "00000000-0000-0000-0000-000000000000")
    assert_problem(missing, 404, "import_not_found")

    plan = await import_file(
        client, admin, MIXED, type_="cases.upsert", name="plan", validate_only="true"
    )
    other = await admin_setup(sessionmaker, email="other@example.org", slug="other-app")
    assert_problem(await check_again(client, other, plan["id"]), 404, "import_not_found")
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    token = await make_token(sessionmaker, "viewer@example.org", admin.slug)
    viewer = await client.post(
        f"/api/apps/{admin.slug}/imports/{plan['id']}/check-again", headers=bearer(token)
    )
    assert_problem(viewer, 403, "admin_required")
    # Nothing was queued by any refusal.
    listed = (await client.get(f"/api/apps/{admin.slug}/imports", headers=admin.headers)).json()
    assert sorted(i["name"] for i in listed["items"]) == ["applied", "plan", "queued", "seed"]


async def test_a_check_again_is_in_the_audit_log(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    plan = await import_file(
        client, admin, MIXED, type_="cases.upsert", name="plan", validate_only="true"
    )
    again = await checked_again(client, admin, plan["id"])
    audit = await client.get(
        f"/api/apps/{admin.slug}/audit",
        params={"action": "import.checked_again"},
        headers=admin.headers,
    )
    assert audit.status_code == 200, audit.text
    [event] = audit.json()["items"]
    assert (event["actor"], event["target"], event["details"]) == (
        admin.email,
        again["id"],
        {"checks_again": plan["id"]},
    )
