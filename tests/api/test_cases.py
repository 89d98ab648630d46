"""The Cases dashboard API: filters, sorting, paging, one case, stats, and tenant isolation."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from httpx import AsyncClient
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cases.models import Case
from tests.factories import AdminSetup, admin_setup, assert_problem


async def seed(sessionmaker: async_sessionmaker[AsyncSession], app_id: uuid.UUID) -> None:
    rows = [
        ("CASE-1", 1, date(2024, 1, 10), "Water leak on Elm Street"),
        ("CASE-2", 0, date(2024, 2, 20), "Street light out"),
        ("case-3", 1, date(2024, 3, 30), "Noise complaint, 100% loud"),
        ("OTHER-4", 0, date(2023, 12, 1), "Pothole near the water tower"),
    ]
    async with sessionmaker() as session:
        await session.execute(
            insert(Case),
            [
                {"app_id": app_id, "tag_id": t, "case_status": s, "date_opened": d, "about": a}
                for t, s, d, a in rows
            ],
        )
        await session.commit()


async def tags(client: AsyncClient, admin: AdminSetup, **params: Any) -> list[str]:
    response = await client.get(
        f"/api/apps/{admin.slug}/cases", params=params, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    return [c["tag_id"] for c in response.json()["items"]]


async def test_filters_and_sorting(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(sessionmaker, admin.app_id)
    assert await tags(client, admin, sort="date_opened") == [
        "OTHER-4",
        "CASE-1",
        "CASE-2",
        "case-3",
    ]
    assert await tags(client, admin, sort="-tag_id") == ["OTHER-4", "case-3", "CASE-2", "CASE-1"]
    # The default is the tag's order, which an index serves however many cases the app has.
    assert await tags(client, admin) == ["CASE-1", "CASE-2", "case-3", "OTHER-4"]
    assert await tags(client, admin, status="closed", sort="tag_id") == ["CASE-2", "OTHER-4"]
    assert await tags(client, admin, q="water", sort="tag_id") == ["CASE-1", "OTHER-4"]
    assert await tags(client, admin, q="case-", sort="tag_id") == ["CASE-1", "CASE-2", "case-3"]
    assert await tags(client, admin, q="100%") == ["case-3"]
    assert await tags(client, admin, q="_") == []  # LIKE wildcards are matched literally
    assert await tags(
        client, admin, opened_from="2024-02-01", opened_to="2024-03-30", sort="date_opened"
    ) == ["CASE-2", "case-3"]


async def test_paging_walks_every_case_once(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(sessionmaker, admin.app_id)
    for sort in ["date_opened", "-date_opened", "tag_id", "-updated_at"]:
        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 1, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            page = (
                await client.get(
                    f"/api/apps/{admin.slug}/cases", params=params, headers=admin.headers
                )
            ).json()
            seen += [c["tag_id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if not cursor:
                break
        assert sorted(seen) == ["CASE-1", "CASE-2", "OTHER-4", "case-3"], sort


async def test_one_case_by_tag_in_any_case_and_stats(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await seed(sessionmaker, admin.app_id)
    response = await client.get(f"/api/apps/{admin.slug}/cases/CASE-3", headers=admin.headers)
    assert response.status_code == 200
    case = response.json()
    assert (case["tag_id"], case["status"], case["case_status"]) == ("case-3", "active", 1)
    assert case["date_opened"] == "2024-03-30"
    assert {"created_by_import", "updated_by_import", "created_at", "updated_at"} <= case.keys()
    assert_problem(
        await client.get(f"/api/apps/{admin.slug}/cases/NOPE", headers=admin.headers),
        404,
        "case_not_found",
    )
    stats = await client.get(f"/api/apps/{admin.slug}/cases/stats", headers=admin.headers)
    assert stats.json() == {"total": 4, "active": 2, "closed": 2}


async def test_another_tenants_cases_are_invisible(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mine = await admin_setup(sessionmaker)
    theirs = await admin_setup(sessionmaker, slug="their-app", email="them@example.org")
    await seed(sessionmaker, theirs.app_id)
    assert await tags(client, mine) == []
    assert_problem(
        await client.get(f"/api/apps/{mine.slug}/cases/CASE-1", headers=mine.headers),
        404,
        "case_not_found",
    )
    response = await client.get(f"/api/apps/{theirs.slug}/cases", headers=mine.headers)
    assert_problem(response, 404, "app_not_found")
