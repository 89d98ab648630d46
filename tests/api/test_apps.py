from __future__ import annotations

from datetime import date

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.apps import service
from api.apps.models import App
from api.auth.principal import Principal
from api.cases.models import Case
from api.db import unit_of_work
from api.errors import NotFound, Unprocessable
from tests.factories import (
    admin_setup,
    assert_problem,
    make_app,
    make_member,
    make_token,
    make_user,
    sign_in,
)


async def add_cases(
    sessionmaker: async_sessionmaker[AsyncSession], app: App, active: int, closed: int
) -> None:
    async with unit_of_work(sessionmaker) as session:
        for n, status in enumerate([1] * active + [0] * closed):
            session.add(
                Case(
                    app_id=app.id,
                    tag_id=f"CASE-{n}",
                    case_status=status,
                    date_opened=date(2024, 3, 7),
                    about=f"Case number {n}",
                )
            )


async def test_a_viewer_sees_its_app_with_case_counts(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    field_ops = await make_app(sessionmaker, "field-ops", "Field operations")
    other = await make_app(sessionmaker, "other-app")
    await add_cases(sessionmaker, field_ops, active=2, closed=1)
    await add_cases(sessionmaker, other, active=4, closed=0)
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", "field-ops", "viewer")
    await sign_in(client, "viewer@example.org")

    response = await client.get("/api/apps")

    assert response.status_code == 200
    expected = {
        "slug": "field-ops",
        "name": "Field operations",
        "role": "viewer",
        "cases": {"total": 3, "active": 2, "closed": 1},
    }
    assert response.json() == {"items": [expected], "next_cursor": None}
    one = await client.get("/api/apps/field-ops")
    assert one.status_code == 200
    assert one.json() == expected


async def test_an_app_without_cases_counts_zero(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    items = (await client.get("/api/apps", headers=setup.headers)).json()["items"]
    assert items[0]["cases"] == {"total": 0, "active": 0, "closed": 0}


async def test_an_owner_sees_every_app_as_admin(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_app(sessionmaker, "field-ops")
    await make_app(sessionmaker, "back-office")
    await make_user(sessionmaker, "owner@example.org", owner=True)
    # A membership as viewer does not make an owner less than admin.
    await make_member(sessionmaker, "owner@example.org", "back-office", "viewer")
    await sign_in(client, "owner@example.org")

    items = (await client.get("/api/apps")).json()["items"]

    assert [(app["slug"], app["role"]) for app in items] == [
        ("back-office", "admin"),
        ("field-ops", "admin"),
    ]
    assert (await client.get("/api/apps/field-ops")).json()["role"] == "admin"


async def test_another_tenants_app_answers_404(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await make_app(sessionmaker, "other-app")
    await sign_in(client, setup.email)

    hidden = await client.get("/api/apps/other-app")
    missing = await client.get("/api/apps/no-such-app")

    assert_problem(hidden, 404, "app_not_found")
    assert_problem(missing, 404, "app_not_found")
    assert hidden.json()["detail"] == missing.json()["detail"].replace("no-such-app", "other-app")


async def test_an_owner_creates_an_app(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await sign_in(client, "owner@example.org")

    response = await client.post("/api/apps", json={"slug": "field-ops", "name": "Field ops"})

    assert response.status_code == 201
    assert response.json() == {
        "slug": "field-ops",
        "name": "Field ops",
        "role": "admin",
        "cases": {"total": 0, "active": 0, "closed": 0},
    }
    assert [app["slug"] for app in (await client.get("/api/apps")).json()["items"]] == ["field-ops"]
    again = await client.post("/api/apps", json={"slug": "field-ops", "name": "Again"})
    assert_problem(again, 409, "app_exists")


@pytest.mark.parametrize("slug", ["Field-Ops", "field_ops", "-field", "field--ops", "", "a" * 65])
async def test_a_bad_slug_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], slug: str
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await sign_in(client, "owner@example.org")
    response = await client.post("/api/apps", json={"slug": slug, "name": "Field ops"})
    assert_problem(response, 422, "invalid_slug")


async def test_only_an_owner_creates_apps(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    response = await client.post("/api/apps", json={"slug": "new-app", "name": "New"})
    assert_problem(response, 403, "owner_required")


async def test_an_owners_token_cannot_create_apps(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_app(sessionmaker, "field-ops")
    token = await make_token(sessionmaker, "owner@example.org", "field-ops")
    response = await client.post(
        "/api/apps",
        json={"slug": "new-app", "name": "New"},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert_problem(response, 403, "session_required")


async def test_an_owners_token_sees_only_its_app(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_app(sessionmaker, "field-ops")
    await make_app(sessionmaker, "back-office")
    token = await make_token(sessionmaker, "owner@example.org", "field-ops")
    headers = {"Authorization": f"Bearer {token}"}

    items = (await client.get("/api/apps", headers=headers)).json()["items"]

    assert [app["slug"] for app in items] == ["field-ops"]
    assert_problem(await client.get("/api/apps/back-office", headers=headers), 404, "app_not_found")


# --- the service, for what the routes do not reach ------------------------------------------


async def test_grant_replaces_the_role(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    user = await make_user(sessionmaker, "ada@example.org")
    await make_app(sessionmaker, "field-ops")
    await make_member(sessionmaker, "ada@example.org", "field-ops", "admin")
    await make_member(sessionmaker, "ADA@example.org", "field-ops", "viewer")

    principal = Principal(user_id=user.id, email=user.email, is_owner=False, via="session")
    async with sessionmaker() as session:
        access = await service.resolve_access(session, principal, "field-ops")
    assert (access.slug, access.role, access.is_admin) == ("field-ops", "viewer", False)


async def test_grant_refuses_unknown_users_apps_and_roles(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await make_app(sessionmaker, "field-ops")
    async with sessionmaker() as session:
        with pytest.raises(NotFound) as user_error:
            await service.grant(session, "nobody@example.org", "field-ops", "admin")
        with pytest.raises(NotFound) as app_error:
            await service.grant(session, "ada@example.org", "no-such-app", "admin")
        with pytest.raises(Unprocessable) as role_error:
            await service.grant(session, "ada@example.org", "field-ops", "owner")
    assert user_error.value.code == "user_not_found"
    assert app_error.value.code == "app_not_found"
    assert role_error.value.code == "invalid_role"
