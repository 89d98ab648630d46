"""A check-only import is a plan that can be applied exactly; an applied import can be reverted.
Through the API and the real worker, checked field by field in the database."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.api.test_changes import (
    EXPECTED_MIXED,
    MIXED,
    _shown,
    changes_of,
    counted,
    seeded,
    stale_plan,
)
from tests.factories import AdminSetup, assert_problem
from tests.importing import case_fields, errors_of, get_import, import_file, upload
from tests.worker_harness import run_worker


async def post(
    client: AsyncClient, admin: AdminSetup, import_id: str, what: str, **body: Any
) -> Any:
    return await client.post(
        f"/api/apps/{admin.slug}/imports/{import_id}/{what}",
        json=body or None,
        headers=admin.headers,
    )


async def applied(
    client: AsyncClient, admin: AdminSetup, import_id: str, what: str, **body: Any
) -> dict[str, Any]:
    """POST apply or revert, run the worker, and answer the new import as it ended."""
    response = await post(client, admin, import_id, what, **body)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "queued"
    await run_worker()
    return await get_import(client, admin, response.json()["id"])


async def test_a_plan_is_applied_exactly_and_reverted_to_the_state_before(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    before = await case_fields(sessionmaker)
    plan = await import_file(
        client, admin, MIXED, type_="cases.upsert", name="plan", validate_only="true"
    )
    assert await case_fields(sessionmaker) == before

    done = await applied(client, admin, plan["id"], "apply")
    assert done["status"] == "completed", done
    assert (done["name"], done["type"], done["plan_id"], done["validate_only"]) == (
        "plan (applied)",
        "cases.upsert",
        plan["id"],
        False,
    )
    assert done["result"] == plan["result"]
    assert (await get_import(client, admin, plan["id"]))["applied_by"] == done["id"]
    # The plan's file, shared: the applied import offers it for download too.
    base = f"/api/apps/{admin.slug}/imports/{done['id']}"
    [listed] = (await client.get(f"{base}/files", headers=admin.headers)).json()["items"]
    assert listed["sha256"] == plan["file"]["sha256"]
    assert (await client.get(f"{base}/file", headers=admin.headers)).content == MIXED.encode()
    assert _shown(await changes_of(client, admin, done["id"])) == EXPECTED_MIXED
    after = await case_fields(sessionmaker)
    assert after["C-1"][0] == 0
    assert after["C-3"][1:3] == (before["C-3"][1].replace(day=9), "Noise at night")
    assert after["C-4"][2] == "Pothole"
    assert {k: v for k, v in after.items() if k not in ("C-1", "C-3", "C-4")} == {
        k: v for k, v in before.items() if k not in ("C-1", "C-3")
    }
    # A plan is applied once.
    assert_problem(await post(client, admin, plan["id"], "apply"), 409, "plan_applied")

    revert = await applied(client, admin, done["id"], "revert")
    assert revert["status"] == "completed", revert
    assert (revert["type"], revert["revert_of"], revert["name"]) == (
        "revert",
        done["id"],
        "Revert of plan (applied)",
    )
    assert counted(revert["result"]) == {
        "rows": 3,
        "created": 0,
        "updated": 2,
        "unchanged": 0,
        "failed": 0,
        "deleted": 1,
    }
    assert await case_fields(sessionmaker) == before
    assert (await get_import(client, admin, done["id"]))["reverted_by"] == revert["id"]
    assert_problem(await post(client, admin, done["id"], "revert"), 409, "already_reverted")
    assert_problem(await post(client, admin, revert["id"], "revert"), 409, "not_revertible")
    assert_problem(await post(client, admin, plan["id"], "revert"), 409, "not_revertible")
    # The applied import still lists the case it created, now that the revert removed it.
    assert _shown(await changes_of(client, admin, done["id"], action="create")) == [
        EXPECTED_MIXED[2]
    ]
    reverted = await changes_of(client, admin, revert["id"])
    assert [(c["line"], c["action"], c["tag_id"]) for c in reverted] == [
        (2, "update", "C-1"),
        (4, "delete", "C-4"),
        (5, "update", "C-3"),
    ]

    history = (
        await client.get(f"/api/apps/{admin.slug}/cases/C-1/history", headers=admin.headers)
    ).json()
    assert [(h["import_name"], h["action"]) for h in history["items"]] == [
        ("Revert of plan (applied)", "update"),
        ("plan (applied)", "update"),
        ("seed", "create"),
    ]
    assert history["items"][0]["fields"] == [{"field": "case_status", "old": 0, "new": 1}]

    audit = (await client.get(f"/api/apps/{admin.slug}/audit", headers=admin.headers)).json()
    actions = [(e["action"], e["target"]) for e in audit["items"]]
    assert ("import.applied", done["id"]) in actions
    assert ("import.reverted", revert["id"]) in actions
    assert ("import.created", plan["id"]) in actions


async def test_a_plan_whose_case_changed_since_is_stale(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin, plan = await stale_plan(client, sessionmaker)
    stale = assert_problem(await post(client, admin, plan["id"], "apply"), 409, "plan_stale")
    assert (stale["line"], stale["tag_id"]) == (5, "C-3")
    assert 'case "C-3" (line 5) was changed' in stale["detail"]

    # A tag the plan creates, created since.
    plan2 = await import_file(
        client,
        admin,
        "tag_id,case_status,date_opened,about\r\nC-9,1,01/01/2024,New\r\n",
        type_="cases.upsert",
        name="plan2",
        validate_only="true",
    )
    await import_file(
        client,
        admin,
        "tag_id,case_status,date_opened,about\r\nc-9,1,01/01/2024,Other\r\n",
        name="add9",
    )
    stale2 = assert_problem(await post(client, admin, plan2["id"], "apply"), 409, "plan_stale")
    assert stale2["tag_id"] == "c-9"

    # A change queued before the apply runs first (per-app order): the worker finds the plan
    # stale in the transaction that would apply it, and applies nothing.
    before = await case_fields(sessionmaker)
    plan3 = await import_file(
        client,
        admin,
        "tag_id,case_status\r\nC-1,0\r\nC-2,0\r\n",
        type_="cases.modify",
        name="plan3",
        validate_only="true",
    )
    await upload(
        client, admin, b"tag_id,case_status\r\nC-2,0\r\n", type_="cases.modify", name="sneaky"
    )
    response = await post(client, admin, plan3["id"], "apply")
    assert response.status_code == 201, response.text
    await run_worker()
    failed = await get_import(client, admin, response.json()["id"])
    assert failed["status"] == "failed", failed
    errors = await errors_of(client, admin, failed["id"])
    assert [(e["line"], e["code"], e["value"]) for e in errors] == [(3, "plan_stale", "C-2")]
    assert failed["error"]["summary"].startswith("The plan cannot be applied. Line 3, tag_id:")
    now = await case_fields(sessionmaker)
    assert now["C-1"] == before["C-1"]
    assert now["C-2"][0] == 0  # the sneaky modify, not the plan


async def test_a_revert_with_a_conflict_fails_or_skips_it(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    before = await case_fields(sessionmaker)
    done = await import_file(client, admin, MIXED, type_="cases.upsert", name="upsert")
    later = await import_file(
        client, admin, "tag_id,about\r\nC-4,Pothole fixed\r\n", type_="cases.modify", name="later"
    )
    assert later["status"] == "completed", later
    mid = await case_fields(sessionmaker)

    failed = await applied(client, admin, done["id"], "revert")
    assert failed["status"] == "failed", failed
    assert failed["result"]["failed"] == 1
    errors = await errors_of(client, admin, failed["id"])
    assert [(e["line"], e["value"], e["code"]) for e in errors] == [(4, "C-4", "revert_conflict")]
    assert 'by the import "later"' in errors[0]["message"]
    assert await case_fields(sessionmaker) == mid  # all or nothing

    skipped = await applied(
        client, admin, done["id"], "revert", on_error="skip", name="undo the rest"
    )
    assert skipped["status"] == "completed", skipped
    assert counted(skipped["result"]) == {
        "rows": 3,
        "created": 0,
        "updated": 2,
        "unchanged": 0,
        "failed": 1,
        "deleted": 0,
    }
    now = await case_fields(sessionmaker)
    assert {k: v for k, v in now.items() if k != "C-4"} == before
    assert now["C-4"] == mid["C-4"]
    assert [e["code"] for e in await errors_of(client, admin, skipped["id"])] == ["revert_conflict"]
    assert (await get_import(client, admin, done["id"]))["reverted_by"] == skipped["id"]


async def test_a_viewer_can_neither_apply_nor_revert(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    from tests.factories import bearer, make_member, make_token, make_user

    admin = await seeded(client, sessionmaker)
    plan = await import_file(
        client, admin, MIXED, type_="cases.upsert", name="plan", validate_only="true"
    )
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    token = await make_token(sessionmaker, "viewer@example.org", admin.slug)
    for what in ("apply", "revert"):
        response = await client.post(
            f"/api/apps/{admin.slug}/imports/{plan['id']}/{what}", headers=bearer(token)
        )
        assert_problem(response, 403, "admin_required")
    missing = await post(client, admin, "00000000-0000-0000-0000-000000000000", "apply")
    assert_problem(missing, 404, "import_not_found")
