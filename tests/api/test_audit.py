"""The audit log as its readers see it: who did what, when, from which address, through which
token; an app's admins read their app's events, owners read everything."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.config import Settings
from api.main import create_app
from tests.factories import (
    AdminSetup,
    admin_setup,
    assert_problem,
    bearer,
    make_member,
    make_token,
    make_user,
    sign_in,
)
from tests.importing import ADD_HEADER, upload
from tests.worker_harness import run_worker

AUDIT = "/api/apps/field-ops/audit"
PEER = "127.0.0.1"  # the test client's address


def prefix_of(token: str) -> str:
    """``cit_xxxxxxxx`` of ``cit_xxxxxxxx_<secret>``."""
    return token[:12]


async def events(
    client: AsyncClient, path: str = AUDIT, headers: dict[str, str] | None = None, **params: Any
) -> list[dict[str, Any]]:
    """Every event of the log at ``path``, newest first, all pages read."""
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        found.extend(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return found


def of(found: list[dict[str, Any]], action: str) -> list[dict[str, Any]]:
    return [event for event in found if event["action"] == action]


def who(event: dict[str, Any]) -> tuple[Any, Any, Any]:
    return event["actor"], event["token"], event["address"]


# --- signing in ------------------------------------------------------------------------------


async def test_sign_ins_and_failed_ones_are_in_the_owners_log(
    client: AsyncClient, app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_user(sessionmaker, "ada@example.org")
    wrong = {"email": "Ada@Example.org", "password": "not it"}
    assert (await client.post("/api/auth/login", json=wrong)).status_code == 401
    unknown = {"email": "nobody@example.org", "password": "guess"}
    assert (await client.post("/api/auth/login", json=unknown)).status_code == 401
    await sign_in(client, "ada@example.org")

    async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as owner:
        await sign_in(owner, "owner@example.org")
        found = await events(owner, "/api/audit")

    assert [(e["action"], e["actor"]) for e in found] == [
        ("auth.sign_in", "owner@example.org"),
        ("auth.sign_in", "ada@example.org"),
        ("auth.sign_in_failed", "nobody@example.org"),
        # The email as typed, compared as every email is: in lower case.
        ("auth.sign_in_failed", "ada@example.org"),
    ]
    assert {(e["app"], e["token"], e["address"]) for e in found} == {(None, None, PEER)}


async def test_sign_ins_belong_to_no_app(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    bad = {"email": setup.email, "password": "not it"}
    assert (await client.post("/api/auth/login", json=bad)).status_code == 401

    found = await events(client)

    assert not [e for e in found if e["action"].startswith("auth.")]


@pytest.fixture
async def behind_proxy(engine: AsyncEngine, settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with CASEIMPORT_TRUSTED_PROXIES naming the test client's address."""
    proxied = create_app(settings.model_copy(update={"trusted_proxies": PEER}))
    async with proxied.router.lifespan_context(proxied):
        yield proxied


async def test_the_address_is_the_client_a_trusted_proxy_names(
    behind_proxy: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await make_user(sessionmaker, "owner@example.org", owner=True)
    transport = ASGITransport(app=behind_proxy, client=(PEER, 40000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as proxied:
        bad = {"email": setup.email, "password": "not it"}
        failed = await proxied.post(
            "/api/auth/login", json=bad, headers={"X-Forwarded-For": "203.0.113.7"}
        )
        assert failed.status_code == 401
        response = await proxied.post(
            "/api/apps/field-ops/imports",
            data={"name": "draft", "type": "cases.add"},
            headers={**setup.headers, "X-Forwarded-For": "198.51.100.8"},
        )
        assert response.status_code == 201, response.text
        await sign_in(proxied, "owner@example.org")
        found = await events(proxied, "/api/audit")

    assert of(found, "auth.sign_in_failed")[0]["address"] == "203.0.113.7"
    assert of(found, "import.created")[0]["address"] == "198.51.100.8"
    # A request without the header: the proxy's own address.
    assert of(found, "auth.sign_in")[0]["address"] == PEER


# --- apps, roles and tokens -------------------------------------------------------------------


async def test_an_app_created_by_an_owner_and_a_role_granted_by_the_command_line(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "owner@example.org")
    body = {"slug": "field-ops", "name": "Field operations"}
    assert (await client.post("/api/apps", json=body)).status_code == 201
    # What `caseimport grant` runs.
    await make_member(sessionmaker, "ada@example.org", "field-ops", "viewer")

    granted, created = await events(client)

    assert created["action"] == "app.created"
    assert who(created) == ("owner@example.org", None, PEER)
    assert (created["app"], created["target"]) == ("field-ops", "field-ops")
    assert created["details"] == {"name": "Field operations"}
    assert granted["action"] == "app.granted"
    # The command line: nobody signed in, no address.
    assert who(granted) == (None, None, None)
    assert (granted["target"], granted["details"]) == ("ada@example.org", {"role": "viewer"})


async def test_tokens_created_and_revoked_name_who_and_through_what(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await sign_in(client, setup.email)
    made = await client.post("/api/apps/field-ops/tokens", json={"name": "CI"})
    assert made.status_code == 201
    token = made.json()
    assert (await client.delete(f"/api/apps/field-ops/tokens/{token['id']}")).status_code == 204
    # Revoking again changes nothing, and records nothing.
    assert (await client.delete(f"/api/apps/field-ops/tokens/{token['id']}")).status_code == 204
    # The setup's own token revokes another one.
    other = await make_token(sessionmaker, setup.email, setup.slug)
    other_id = (await events(client, action="token.created"))[0]["target"]
    revoked = await client.delete(f"/api/apps/field-ops/tokens/{other_id}", headers=setup.headers)
    assert revoked.status_code == 204

    found = await events(client, action="token.revoked") + await events(
        client, action="token.created"
    )

    by_token, by_session, created_by_cli, created, setup_token = found
    assert by_token["target"] == other_id
    assert who(by_token) == (setup.email, prefix_of(setup.token), PEER)
    assert by_token["details"]["prefix"] == prefix_of(other)
    assert by_session["target"] == token["id"]
    assert who(by_session) == (setup.email, None, PEER)
    assert by_session["details"] == {"name": "CI", "prefix": token["prefix"]}
    assert who(created) == (setup.email, None, PEER)
    assert created["details"] == {"name": "CI", "prefix": token["prefix"], "user": setup.email}
    assert token["token"] not in str(found)
    # Tokens made by the command line (the setup's, and `other`).
    assert who(created_by_cli) == who(setup_token) == (None, None, None)
    assert created_by_cli["details"]["user"] == setup.email


# --- imports ---------------------------------------------------------------------------------


async def test_an_imports_creation_file_and_cancel_are_recorded_with_the_token(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    bad = await upload(client, setup, (ADD_HEADER + "A-1,1,13/13/2024,One\r\n").encode())
    await run_worker()
    fixed = (ADD_HEADER + "A-1,1,1/2/2024,One\r\n").encode()
    corrected = await client.put(
        f"/api/apps/field-ops/imports/{bad['id']}/file",
        files={"file": ("fixed.csv", fixed, "text/csv")},
        headers=setup.headers,
    )
    assert corrected.status_code == 200, corrected.text
    draft = await upload(client, setup, None, name="later")
    cancelled = await client.post(
        f"/api/apps/field-ops/imports/{draft['id']}/cancel", headers=setup.headers
    )
    assert cancelled.status_code == 200

    found = await events(client, headers=setup.headers)

    assert [(e["action"], e["target"]) for e in found[:4]] == [
        ("import.cancelled", draft["id"]),
        ("import.created", draft["id"]),
        ("import.file_attached", bad["id"]),
        ("import.created", bad["id"]),
    ]
    assert {who(e) for e in found[:4]} == {(setup.email, prefix_of(setup.token), PEER)}
    assert found[3]["details"] == {
        "name": "November intake",
        "type": "cases.add",
        "filename": "cases.csv",
    }
    assert found[2]["details"] == {"filename": "fixed.csv", "corrected": True}
    assert found[1]["details"]["filename"] is None


async def test_an_idempotent_replay_records_no_second_import(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    for expected in (201, 200):
        response = await client.post(
            "/api/apps/field-ops/imports",
            data={"name": "draft", "type": "cases.add"},
            headers={**setup.headers, "Idempotency-Key": "run-1"},
        )
        assert response.status_code == expected, response.text

    assert len(await events(client, headers=setup.headers, action="import.created")) == 1


async def test_a_refused_action_records_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    draft = await upload(client, setup, None, name="later")
    cancel = f"/api/apps/field-ops/imports/{draft['id']}/cancel"
    assert (await client.post(cancel, headers=setup.headers)).status_code == 200
    assert_problem(await client.post(cancel, headers=setup.headers), 409, "import_not_cancellable")

    assert len(await events(client, headers=setup.headers, action="import.cancelled")) == 1


# --- who may read it -------------------------------------------------------------------------


async def test_a_viewer_may_not_read_the_log(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await admin_setup(sessionmaker)
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", "field-ops", "viewer")
    viewer_token = await make_token(sessionmaker, "viewer@example.org", "field-ops")
    await sign_in(client, "viewer@example.org")

    assert_problem(await client.get(AUDIT), 403, "admin_required")
    assert_problem(await client.get(AUDIT, headers=bearer(viewer_token)), 403, "admin_required")
    assert_problem(await client.get("/api/audit"), 403, "owner_required")


async def test_another_apps_admin_sees_none_of_this_apps_events(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await upload(client, setup, None, name="ours")
    other = await admin_setup(sessionmaker, slug="other-app", email="other@example.org")

    assert_problem(await client.get(AUDIT, headers=other.headers), 404, "app_not_found")
    theirs = await events(client, "/api/apps/other-app/audit", headers=other.headers)
    assert {e["app"] for e in theirs} == {"other-app"}
    assert "import.created" not in {e["action"] for e in theirs}
    # Only owners read the whole log.
    assert_problem(await client.get("/api/audit", headers=other.headers), 403, "owner_required")


async def test_an_owner_reads_every_apps_log_but_not_the_whole_log_through_a_token(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    await upload(client, setup, None, name="ours")
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await sign_in(client, "owner@example.org")

    app_log = await events(client)
    assert "import.created" in {e["action"] for e in app_log}
    whole = await events(client, "/api/audit")
    assert {e["id"] for e in app_log} < {e["id"] for e in whole}

    script = bearer(await make_token(sessionmaker, "owner@example.org", "field-ops"))
    assert await events(client, headers=script) == await events(client)
    assert_problem(await client.get("/api/audit", headers=script), 403, "owner_required")


async def test_the_log_needs_a_caller(client: AsyncClient) -> None:
    assert_problem(await client.get("/api/audit"), 401, "unauthenticated")
    assert_problem(await client.get(AUDIT), 401, "unauthenticated")


# --- paging and filtering --------------------------------------------------------------------


async def drafts(client: AsyncClient, setup: AdminSetup, count: int) -> list[str]:
    return [(await upload(client, setup, None, name=f"draft {n}"))["id"] for n in range(count)]


async def test_pages_are_newest_first_and_end(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    made = await drafts(client, setup, 5)
    everything = (await client.get(AUDIT, params={"limit": 500}, headers=setup.headers)).json()
    assert everything["next_cursor"] is None

    paged = await events(client, headers=setup.headers, limit=2)

    assert paged == everything["items"]
    ids = [e["id"] for e in paged]
    assert ids == sorted(ids, reverse=True)
    assert [e["target"] for e in of(paged, "import.created")] == made[::-1]
    # The setup's app, grant and token come first, oldest.
    assert [e["action"] for e in paged[-3:]] == ["token.created", "app.granted", "app.created"]
    first = (await client.get(AUDIT, params={"limit": 2}, headers=setup.headers)).json()
    assert len(first["items"]) == 2
    assert first["next_cursor"] is not None


async def test_the_action_filter(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    made = await drafts(client, setup, 3)

    found = await events(client, headers=setup.headers, action="import.created", limit=1)

    assert [e["target"] for e in found] == made[::-1]
    response = await client.get(AUDIT, params={"action": "import.deleted"}, headers=setup.headers)
    assert_problem(response, 422, "invalid_request")


async def test_a_made_up_cursor_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    setup = await admin_setup(sessionmaker)
    response = await client.get(AUDIT, params={"cursor": "WyJ4Il0"}, headers=setup.headers)
    assert_problem(response, 422, "invalid_cursor")


async def test_sign_ins_refused_while_throttled_are_not_recorded(
    client: AsyncClient,
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    """The throttle refuses a flood without writing anything; the failures that tripped it are
    each recorded."""
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_user(sessionmaker, "ada@example.org")
    bad = {"email": "ada@example.org", "password": "not it"}
    for _ in range(settings.login_max_failures):
        assert_problem(await client.post("/api/auth/login", json=bad), 401, "invalid_credentials")
    for _ in range(3):
        assert_problem(await client.post("/api/auth/login", json=bad), 429, "too_many_attempts")

    await sign_in(client, "owner@example.org")
    found = await events(client, "/api/audit", action="auth.sign_in_failed")

    assert len(found) == settings.login_max_failures
