"""What each row of an import does, recorded as it is checked or applied, and read back row by
row (``GET .../changes``) and case by case (``GET .../cases/{tag_id}/history``)."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AdminSetup, admin_setup, assert_problem
from tests.importing import ADD_HEADER, case_fields, cases_by_tag, import_file

SEED = ADD_HEADER + (
    "C-1,1,01/05/2024,Water leak\r\nC-2,1,02/06/2024,Broken light\r\nC-3,0,03/07/2024,Noise\r\n"
)
# Line 2 changes C-1's status, line 3 leaves C-2 as it is, line 4 creates C-4, line 5 changes
# C-3's description and date.
MIXED = (
    "tag_id,case_status,date_opened,about\r\n"
    "c-1,0,,\r\n"
    "C-2,1,2/6/2024,Broken light\r\n"
    "C-4,1,04/08/2024,Pothole\r\n"
    "C-3,,03/09/2024,Noise at night\r\n"
)


def counted(result: dict[str, Any]) -> dict[str, Any]:
    """The result's counts, without the reconciliation's blank rows and file hash."""
    return {k: v for k, v in result.items() if k not in ("blank_rows", "sha256")}


async def seeded(client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> AdminSetup:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, SEED, name="seed")
    assert done["status"] == "completed", done
    return admin


async def stale_plan(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> tuple[AdminSetup, dict[str, Any]]:
    """A plan of the mixed file, then C-3 (its line 5) edited by another import: stale."""
    admin = await seeded(client, sessionmaker)
    plan = await import_file(
        client, admin, MIXED, type_="cases.upsert", name="plan", validate_only="true"
    )
    edit = await import_file(
        client, admin, "tag_id,about\r\nC-3,Loud noise\r\n", type_="cases.modify", name="edit"
    )
    assert edit["status"] == "completed", edit
    return admin, plan


async def changes_of(
    client: AsyncClient, admin: AdminSetup, import_id: str, **params: Any
) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{import_id}/changes",
        params={"limit": 500, **params},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def _shown(changes: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            c["line"],
            c["action"],
            c["tag_id"],
            [(f["field"], f["old"], f["new"]) for f in c["fields"]],
        )
        for c in changes
    ]


# What MIXED does to the seeded app, checked or applied.
MIXED_COUNTS = {"rows": 4, "created": 1, "updated": 2, "unchanged": 1, "failed": 0, "deleted": 0}
EXPECTED_MIXED = [
    (2, "update", "C-1", [("case_status", 1, 0)]),
    (3, "unchanged", "C-2", []),
    (
        4,
        "create",
        "C-4",
        [("case_status", None, 1), ("date_opened", None, "2024-04-08"), ("about", None, "Pothole")],
    ),
    (
        5,
        "update",
        "C-3",
        [("date_opened", "2024-03-07", "2024-03-09"), ("about", "Noise", "Noise at night")],
    ),
]


async def test_a_checked_upsert_lists_what_it_would_do_and_changes_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    before = await case_fields(sessionmaker)
    plan = await import_file(
        client, admin, MIXED, type_="cases.upsert", name="plan", validate_only="true"
    )
    assert plan["status"] == "completed", plan
    assert counted(plan["result"]) == MIXED_COUNTS
    assert _shown(await changes_of(client, admin, plan["id"])) == EXPECTED_MIXED
    assert await case_fields(sessionmaker) == before
    updates = await changes_of(client, admin, plan["id"], action="update")
    assert [c["line"] for c in updates] == [2, 5]


async def test_an_applied_upsert_records_its_changes_and_the_cases_history(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    done = await import_file(client, admin, MIXED, type_="cases.upsert", name="upsert")
    assert done["status"] == "completed", done
    assert counted(done["result"]) == MIXED_COUNTS
    assert _shown(await changes_of(client, admin, done["id"])) == EXPECTED_MIXED
    cases = await cases_by_tag(sessionmaker)
    assert (cases["C-1"].case_status, cases["C-4"].about) == (0, "Pothole")
    assert str(cases["C-4"].created_by_import) == done["id"]

    # A later modify changes C-4: the upsert still shows the values C-4 was created with.
    later = await import_file(
        client,
        admin,
        "tag_id,about\r\nC-4,Pothole on Main Street\r\n",
        type_="cases.modify",
        name="later",
    )
    assert later["status"] == "completed", later
    created = await changes_of(client, admin, done["id"], action="create")
    assert _shown(created) == [EXPECTED_MIXED[2]]

    history = await client.get(f"/api/apps/{admin.slug}/cases/c-4/history", headers=admin.headers)
    assert history.status_code == 200, history.text
    body = history.json()
    assert body["tag_id"] == "C-4"
    assert [(h["import_name"], h["action"], h["line"]) for h in body["items"]] == [
        ("later", "update", 2),
        ("upsert", "create", 4),
    ]
    assert body["items"][0]["fields"] == [
        {"field": "about", "old": "Pothole", "new": "Pothole on Main Street"}
    ]
    assert body["items"][1]["by"] == admin.email
    missing = await client.get(f"/api/apps/{admin.slug}/cases/C-99/history", headers=admin.headers)
    assert_problem(missing, 404, "case_not_found")


async def test_failed_rows_are_recorded_whatever_failed(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    content = (
        "tag_id,case_status,date_opened,about\r\n"
        "C-5,1,01/01/2024,Fine row\r\n"
        "bad tag!,1,01/01/2024,Unreadable tag\r\n"  # no key: staged by its line alone
        "C-6,1,01/01/2024,Too,many,cells\r\n"  # field_count
        "C-1,1,01/01/2024,Already there\r\n"  # already_exists, found in SQL
        "C-7,9,01/01/2024,Bad status\r\n"
    )
    # A failed import (nothing applied) records its failed lines only.
    failed = await import_file(client, admin, content, name="fail")
    assert failed["status"] == "failed", failed
    assert [c["line"] for c in await changes_of(client, admin, failed["id"])] == [3, 4, 5, 6]
    failed_only = await changes_of(client, admin, failed["id"], action="failed")
    assert [c["line"] for c in failed_only] == [3, 4, 5, 6]

    done = await import_file(client, admin, content, name="skip", on_error="skip")
    assert done["status"] == "completed", done
    assert counted(done["result"]) == {
        "rows": 5,
        "created": 1,
        "updated": 0,
        "unchanged": 0,
        "failed": 4,
        "deleted": 0,
    }
    changes = await changes_of(client, admin, done["id"])
    assert [(c["line"], c["action"], c["tag_id"]) for c in changes] == [
        (2, "create", "C-5"),
        (3, "failed", None),
        (4, "failed", None),
        (5, "failed", "C-1"),
        (6, "failed", "C-7"),
    ]


async def test_changes_are_paged_by_line(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await seeded(client, sessionmaker)
    done = await import_file(client, admin, MIXED, type_="cases.upsert", name="upsert")
    url = f"/api/apps/{admin.slug}/imports/{done['id']}/changes"
    first = (await client.get(url, params={"limit": 3}, headers=admin.headers)).json()
    assert [c["line"] for c in first["items"]] == [2, 3, 4]
    second = (
        await client.get(
            url, params={"limit": 3, "cursor": first["next_cursor"]}, headers=admin.headers
        )
    ).json()
    assert ([c["line"] for c in second["items"]], second["next_cursor"]) == ([5], None)
    bad = await client.get(url, params={"action": "merged"}, headers=admin.headers)
    assert bad.status_code == 422


async def test_the_fast_paths_record_as_the_checked_one_does(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    planned = await import_file(client, admin, SEED, name="check", validate_only="true")
    added = await import_file(client, admin, SEED, name="seed")
    creates = [
        (
            2,
            "create",
            "C-1",
            [
                ("case_status", None, 1),
                ("date_opened", None, "2024-01-05"),
                ("about", None, "Water leak"),
            ],
        ),
        (
            3,
            "create",
            "C-2",
            [
                ("case_status", None, 1),
                ("date_opened", None, "2024-02-06"),
                ("about", None, "Broken light"),
            ],
        ),
        (
            4,
            "create",
            "C-3",
            [
                ("case_status", None, 0),
                ("date_opened", None, "2024-03-07"),
                ("about", None, "Noise"),
            ],
        ),
    ]
    assert _shown(await changes_of(client, admin, planned["id"])) == creates
    assert _shown(await changes_of(client, admin, added["id"])) == creates

    # A clean modify goes batch by batch; a blank line is skipped and not counted.
    content = "tag_id,case_status\r\nC-1,0\r\n\r\nC-2,1\r\nC-3,1\r\n"
    modified = await import_file(client, admin, content, type_="cases.modify", name="m")
    assert modified["result"]["updated"] == 2, modified
    assert _shown(await changes_of(client, admin, modified["id"])) == [
        (2, "update", "C-1", [("case_status", 1, 0)]),
        (4, "unchanged", "C-2", []),
        (5, "update", "C-3", [("case_status", 0, 1)]),
    ]
