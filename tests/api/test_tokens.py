from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth.models import ApiToken
from api.db import unit_of_work
from tests.factories import (
    admin_setup,
    assert_problem,
    bearer,
    make_app,
    make_member,
    make_token,
    make_user,
    sign_in,
)

TOKENS = "/api/apps/field-ops/tokens"


async def create(
    client: AsyncClient, body: dict[str, object], path: str = TOKENS
) -> dict[str, str]:
    response = await client.post(path, json=body)
    assert response.status_code == 201, response.text
    created: dict[str, str] = response.json()
    return created


async def test_a_created_token_works_as_bearer(
    client: AsyncClient, app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)

    created = await create(client, {"name": "CI"})

    assert set(created) == {"id", "name", "token", "prefix", "created_at", "expires_at"}
    assert created["name"] == "CI"
    assert created["expires_at"] is None
    assert created["token"].startswith(created["prefix"] + "_")
    assert created["prefix"].startswith("cit_")
    # A client without the cookie: the token alone signs it in.
    async with AsyncClient(
        transport=ASGITransport(app=app), base_url="http://testserver"
    ) as script:
        me = await script.get("/api/auth/me", headers=bearer(created["token"]))
        assert me.status_code == 200
        assert me.json()["apps"] == [{"slug": "field-ops", "name": "Field Ops", "role": "admin"}]
        tokens = await script.get(TOKENS, headers=bearer(created["token"]))
        assert tokens.status_code == 200


async def test_the_list_shows_the_prefix_never_the_secret(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    created = await create(client, {"name": "CI", "expires_days": 30})

    response = await client.get(TOKENS)

    assert response.status_code == 200
    assert created["token"] not in response.text
    secret_part = created["token"].removeprefix(created["prefix"] + "_")
    assert secret_part not in response.text
    body = response.json()
    assert body["next_cursor"] is None
    listed = {item["id"]: item for item in body["items"]}
    assert len(listed) == 2  # the setup's own token and the new one
    item = listed[created["id"]]
    assert set(item) == {"id", "name", "prefix", "created_at", "expires_at", "last_used_at"}
    assert item["prefix"] == created["prefix"]
    assert item["expires_at"] == created["expires_at"]


async def test_expires_days_sets_the_expiry(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    created = await create(client, {"name": "CI", "expires_days": 7})
    made = datetime.fromisoformat(created["created_at"])
    assert datetime.fromisoformat(created["expires_at"]) - made == timedelta(days=7)


async def test_tokens_are_stored_only_as_hashes(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    created = await create(client, {"name": "CI"})

    async with sessionmaker() as session:
        row = (
            await session.execute(
                text("SELECT * FROM api_tokens WHERE id = :id"), {"id": created["id"]}
            )
        ).one()
    assert row.token_hash == hashlib.sha256(created["token"].encode()).hexdigest()
    secret_part = created["token"].removeprefix(created["prefix"] + "_")
    assert not any(secret_part in str(value) for value in row)


async def test_a_revoked_token_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    created = await create(client, {"name": "CI"})

    response = await client.delete(f"{TOKENS}/{created['id']}")

    assert response.status_code == 204
    me = await client.get("/api/auth/me", headers=bearer(created["token"]))
    assert_problem(me, 401, "unauthenticated")
    listed = [item["id"] for item in (await client.get(TOKENS)).json()["items"]]
    assert created["id"] not in listed
    # Revoking twice is no error.
    assert (await client.delete(f"{TOKENS}/{created['id']}")).status_code == 204


async def test_an_expired_token_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    assert (await client.get("/api/auth/me", headers=setup.headers)).status_code == 200
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(ApiToken).values(expires_at=func.now() - text("interval '1 second'"))
        )

    response = await client.get("/api/auth/me", headers=setup.headers)

    assert_problem(response, 401, "unauthenticated")


async def test_a_used_token_records_when(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    assert (await client.get(TOKENS, headers=setup.headers)).status_code == 200
    items = (await client.get(TOKENS, headers=setup.headers)).json()["items"]
    assert items[0]["last_used_at"] is not None


async def test_a_token_cannot_mint_tokens(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    response = await client.post(TOKENS, json={"name": "more"}, headers=setup.headers)
    assert_problem(response, 403, "session_required")


async def test_a_token_may_revoke_with_any_origin(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    """A bearer request is not subject to the cookie's Origin check."""
    setup = await admin_setup(sessionmaker)
    other = await make_token(sessionmaker, setup.email, setup.slug)
    async with sessionmaker() as session:
        other_id = await session.scalar(
            select(ApiToken.id).where(
                ApiToken.token_hash == hashlib.sha256(other.encode()).hexdigest()
            )
        )

    response = await client.delete(
        f"{TOKENS}/{other_id}",
        headers={**setup.headers, "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"},
    )

    assert response.status_code == 204


async def test_a_cookie_token_post_from_a_foreign_origin_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    response = await client.post(
        TOKENS, json={"name": "CI"}, headers={"Origin": "https://evil.example"}
    )
    assert_problem(response, 403, "foreign_origin")


async def test_a_viewer_may_not_manage_tokens(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "viewer@example.org")
    await make_app(sessionmaker, "field-ops")
    await make_member(sessionmaker, "viewer@example.org", "field-ops", "viewer")
    await sign_in(client, "viewer@example.org")

    assert_problem(await client.post(TOKENS, json={"name": "CI"}), 403, "admin_required")
    assert_problem(await client.get(TOKENS), 403, "admin_required")


async def test_an_owner_manages_tokens_of_any_app(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_app(sessionmaker, "field-ops")
    await sign_in(client, "owner@example.org")
    created = await create(client, {"name": "CI"})
    me = await client.get("/api/auth/me", headers=bearer(created["token"]))
    assert me.json()["apps"] == [{"slug": "field-ops", "name": "Field Ops", "role": "admin"}]


async def test_another_tenants_tokens_answer_404(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await make_user(sessionmaker, "other@example.org")
    await make_app(sessionmaker, "other-app")
    await make_member(sessionmaker, "other@example.org", "other-app", "admin")
    other_token = await make_token(sessionmaker, "other@example.org", "other-app")
    async with sessionmaker() as session:
        other_id = await session.scalar(
            select(ApiToken.id).where(ApiToken.user_id != setup.user_id)
        )
    await sign_in(client, setup.email)

    path = "/api/apps/other-app/tokens"
    assert_problem(await client.get(path), 404, "app_not_found")
    assert_problem(await client.post(path, json={"name": "x"}), 404, "app_not_found")
    assert_problem(await client.delete(f"{path}/{other_id}"), 404, "app_not_found")
    # Its token id through the caller's own app: as unknown as a made-up one.
    assert_problem(await client.delete(f"{TOKENS}/{other_id}"), 404, "token_not_found")
    assert (await client.get("/api/auth/me", headers=bearer(other_token))).status_code == 200
    # An app that does not exist answers the same.
    assert_problem(await client.get("/api/apps/no-such-app/tokens"), 404, "app_not_found")


async def test_a_token_of_one_app_is_404_on_another(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # The user is admin of both apps; the token still belongs to the first only.
    setup = await admin_setup(sessionmaker)
    await make_app(sessionmaker, "back-office")
    await make_member(sessionmaker, setup.email, "back-office", "admin")

    response = await client.get("/api/apps/back-office/tokens", headers=setup.headers)

    assert_problem(response, 404, "app_not_found")
    apps = (await client.get("/api/apps", headers=setup.headers)).json()["items"]
    assert [app["slug"] for app in apps] == ["field-ops"]


async def test_a_token_stops_working_when_its_user_loses_the_app(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    async with unit_of_work(sessionmaker) as session:
        await session.execute(text("DELETE FROM memberships"))
    assert_problem(await client.get(TOKENS, headers=setup.headers), 404, "app_not_found")


async def test_token_requests_are_validated(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    for body in ({"name": ""}, {"name": "CI", "expires_days": 0}, {}):
        assert_problem(await client.post(TOKENS, json=body), 422, "invalid_request")
    assert_problem(await client.post(TOKENS, json={"name": "   "}), 422, "invalid_name")
    assert_problem(await client.delete(f"{TOKENS}/not-an-id"), 422, "invalid_request")
    missing = "00000000-0000-0000-0000-000000000000"
    assert_problem(await client.delete(f"{TOKENS}/{missing}"), 404, "token_not_found")
