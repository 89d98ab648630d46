from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from pydantic import ValidationError
from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.auth.deps import SESSION_COOKIE
from api.auth.models import LoginFailure, UserSession
from api.auth.service import ADDRESS_FAILURES_FACTOR
from api.config import Settings
from api.db import unit_of_work
from api.main import create_app
from tests.factories import (
    PASSWORD,
    assert_problem,
    bearer,
    make_app,
    make_member,
    make_user,
    sign_in,
)

ClientAt = Callable[[str], AbstractAsyncContextManager[AsyncClient]]


@pytest.fixture
def client_at(app: FastAPI) -> ClientAt:
    """A client calling from a given address (the default client is always 127.0.0.1)."""

    @asynccontextmanager
    async def open_client(address: str) -> AsyncIterator[AsyncClient]:
        transport = ASGITransport(app=app, client=(address, 40000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c

    return open_client


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> Response:
    return await client.post("/api/auth/login", json={"email": email, "password": password})


# --- signing in -----------------------------------------------------------------------------


async def test_login_sets_a_strict_http_only_cookie_that_signs_in(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user(sessionmaker, "ada@example.org")

    response = await login(client, "ada@example.org")

    assert response.status_code == 200
    assert response.json() == {"email": "ada@example.org", "is_owner": False, "apps": []}
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "samesite=strict", "path=/"} <= attributes
    assert f"max-age={settings.session_hours * 3600}" in attributes
    assert "secure" not in attributes  # plain http here; behind https the cookie is Secure
    me = await client.get("/api/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == "ada@example.org"


async def test_login_cookie_is_secure_over_https(
    app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    transport = ASGITransport(app=app)
    async with AsyncClient(transport=transport, base_url="https://testserver") as c:
        response = await login(c, "ada@example.org")
    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()


async def test_login_ignores_email_case_and_spaces(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    response = await login(client, "  Ada@Example.ORG ")
    assert response.status_code == 200
    assert response.json()["email"] == "ada@example.org"


async def test_me_lists_the_apps_and_roles(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await make_app(sessionmaker, "field-ops", "Field operations")
    await make_app(sessionmaker, "back-office", "Back office")
    await make_app(sessionmaker, "hidden")
    await make_member(sessionmaker, "ada@example.org", "field-ops", "viewer")
    await make_member(sessionmaker, "ada@example.org", "back-office", "admin")
    await sign_in(client, "ada@example.org")

    me = (await client.get("/api/auth/me")).json()

    assert me["apps"] == [
        {"slug": "back-office", "name": "Back office", "role": "admin"},
        {"slug": "field-ops", "name": "Field operations", "role": "viewer"},
    ]


async def test_wrong_password_is_refused_clearly(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")

    response = await login(client, "ada@example.org", "not the password")

    body = assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "Wrong email or password."
    assert "set-cookie" not in response.headers
    assert (await client.get("/api/auth/me")).status_code == 401


async def test_unknown_email_answers_like_a_wrong_password(client: AsyncClient) -> None:
    response = await login(client, "nobody@example.org")
    body = assert_problem(response, 401, "invalid_credentials")
    assert body["detail"] == "Wrong email or password."


async def test_login_body_is_validated(client: AsyncClient) -> None:
    response = await client.post("/api/auth/login", json={"email": "ada@example.org"})
    body = assert_problem(response, 422, "invalid_request")
    assert body["errors"]


# --- throttling -----------------------------------------------------------------------------


async def test_a_refused_login_is_counted_although_the_request_fails(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")

    assert_problem(await login(client, "ada@example.org", "guess"), 401, "invalid_credentials")

    async with sessionmaker() as session:
        keys = (await session.scalars(select(LoginFailure.key).order_by(LoginFailure.key))).all()
    assert keys == [
        "account:ada@example.org",
        "account:ada@example.org address:127.0.0.1",
        "address:127.0.0.1",
    ]


async def test_failures_from_one_address_refuse_it_but_do_not_lock_the_account_out(
    client_at: ClientAt, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    async with client_at("10.0.0.1") as attacker:
        for _ in range(settings.login_max_failures):
            assert (await login(attacker, "ada@example.org", "guess")).status_code == 401

        # The right password from another address signs in: failing on purpose locks no one out.
        async with client_at("10.0.1.1") as owner:
            assert (await login(owner, "ada@example.org")).status_code == 200

        # From the failing address, even the right password is refused, for now.
        response = await login(attacker, "ada@example.org")
    body = assert_problem(response, 429, "too_many_attempts")
    retry_after = int(response.headers["retry-after"])
    assert 0 < retry_after <= settings.login_window_seconds
    assert str(retry_after) in str(body["detail"])


async def test_an_account_failing_from_many_addresses_is_slowed_down_not_locked(
    app: FastAPI,
    client_at: ClientAt,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Long enough that a loaded machine's password hashing (0.7 s seen) cannot pass for it.
    slowdown = 2.0
    monkeypatch.setattr(app.state.settings, "login_slowdown_seconds", slowdown)
    await make_user(sessionmaker, "ada@example.org")
    await make_user(sessionmaker, "bob@example.org")
    for n in range(settings.login_max_failures):
        async with client_at(f"10.0.0.{n + 1}") as c:
            assert (await login(c, "ada@example.org", "guess")).status_code == 401

    async with client_at("10.0.1.1") as c:
        started = time.monotonic()
        assert (await login(c, "ada@example.org")).status_code == 200
        assert time.monotonic() - started >= slowdown
        # Still a 401 from a new address, never a 429: the account is not locked.
        assert (await login(c, "ada@example.org", "guess")).status_code == 401
        # Another account is not slowed down.
        started = time.monotonic()
        assert (await login(c, "bob@example.org")).status_code == 200
        assert time.monotonic() - started < slowdown


async def test_failures_from_one_address_are_throttled_across_accounts(
    client: AsyncClient,
    client_at: ClientAt,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    for n in range(settings.login_max_failures * ADDRESS_FAILURES_FACTOR):
        assert (await login(client, f"guess{n}@example.org", "guess")).status_code == 401

    response = await login(client, "ada@example.org")

    assert_problem(response, 429, "too_many_attempts")
    assert int(response.headers["retry-after"]) > 0
    # The account itself is not locked: from elsewhere it signs in.
    async with client_at("10.0.2.1") as c:
        assert (await login(c, "ada@example.org")).status_code == 200


async def test_failures_leave_the_window(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    for _ in range(settings.login_max_failures):
        await login(client, "ada@example.org", "guess")
    assert (await login(client, "ada@example.org")).status_code == 429

    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            text("UPDATE login_failures SET failed_at = failed_at - make_interval(secs => :s)"),
            {"s": settings.login_window_seconds + 1},
        )

    assert (await login(client, "ada@example.org")).status_code == 200


async def test_a_success_starts_the_address_count_on_the_account_again(
    app: FastAPI,
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app.state.settings, "login_slowdown_seconds", 0)
    await make_user(sessionmaker, "ada@example.org")
    for _ in range(2):
        for _ in range(settings.login_max_failures - 1):
            assert (await login(client, "ada@example.org", "guess")).status_code == 401
        assert (await login(client, "ada@example.org")).status_code == 200


async def test_parallel_guesses_from_one_address_cannot_slip_past_the_limit(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user(sessionmaker, "ada@example.org")

    responses = await asyncio.gather(
        *(login(client, "ada@example.org", "guess") for _ in range(settings.login_max_failures + 4))
    )

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * settings.login_max_failures + [429] * 4


async def test_parallel_guesses_from_many_addresses_are_never_refused(
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app.state.settings, "login_slowdown_seconds", 0.1)
    await make_user(sessionmaker, "ada@example.org")

    async def guess(n: int) -> int:
        transport = ASGITransport(app=app, client=(f"10.9.0.{n + 1}", 40000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as c:
            return (await login(c, "ada@example.org", "guess")).status_code

    statuses = await asyncio.gather(*(guess(n) for n in range(settings.login_max_failures * 2)))

    assert statuses == [401] * (settings.login_max_failures * 2)


# --- the client address ---------------------------------------------------------------------


async def failure_addresses(sessionmaker: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessionmaker() as session:
        keys = await session.scalars(
            select(LoginFailure.key).where(LoginFailure.key.startswith("address:"))
        )
        return set(keys)


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    assert settings.trusted_proxies == ""
    await make_user(sessionmaker, "ada@example.org")
    for n in range(settings.login_max_failures):
        response = await client.post(
            "/api/auth/login",
            json={"email": "ada@example.org", "password": "guess"},
            headers={"X-Forwarded-For": f"203.0.113.{n + 1}"},
        )
        assert response.status_code == 401

    # Every failure counted under the peer's own address: a new forwarded one does not help.
    assert await failure_addresses(sessionmaker) == {"address:127.0.0.1"}
    response = await client.post(
        "/api/auth/login",
        json={"email": "ada@example.org", "password": PASSWORD},
        headers={"X-Forwarded-For": "198.51.100.1"},
    )
    assert_problem(response, 429, "too_many_attempts")


def test_trusted_proxies_are_addresses_or_networks() -> None:
    assert Settings(trusted_proxies=" 10.0.0.5 ,10.1.0.0/16, ::1,").trusted_proxies == (
        "10.0.0.5, 10.1.0.0/16, ::1"
    )
    assert Settings(trusted_proxies="*").trusted_proxies == "*"
    with pytest.raises(ValidationError, match="gateway"):
        Settings(trusted_proxies="10.0.0.5, gateway")


@pytest.fixture
async def behind_proxy(engine: AsyncEngine, settings: Settings) -> AsyncIterator[FastAPI]:
    """The app with CASEIMPORT_TRUSTED_PROXIES naming the test client's address (127.0.0.1)."""
    proxied = create_app(settings.model_copy(update={"trusted_proxies": "127.0.0.1, 10.8.0.0/16"}))
    async with proxied.router.lifespan_context(proxied):
        yield proxied


async def test_forwarded_for_from_a_trusted_proxy_is_honoured(
    behind_proxy: FastAPI, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await make_user(sessionmaker, "ada@example.org")

    async def login_via(peer: str, forwarded: str, password: str) -> Response:
        transport = ASGITransport(app=behind_proxy, client=(peer, 40000))
        async with AsyncClient(transport=transport, base_url="http://testserver") as c:
            return await c.post(
                "/api/auth/login",
                json={"email": "ada@example.org", "password": password},
                headers={"X-Forwarded-For": forwarded},
            )

    for _ in range(settings.login_max_failures):
        # The client the proxy names is the rightmost address that is not a trusted proxy.
        response = await login_via("127.0.0.1", "192.0.2.9, 203.0.113.7, 10.8.1.2", "guess")
        assert response.status_code == 401
    assert await failure_addresses(sessionmaker) == {"address:203.0.113.7"}

    assert_problem(await login_via("127.0.0.1", "203.0.113.7", PASSWORD), 429, "too_many_attempts")
    assert (await login_via("10.8.3.4", "198.51.100.8", PASSWORD)).status_code == 200
    # A peer that is not a trusted proxy is counted under its own address.
    assert (await login_via("192.0.2.50", "203.0.113.7", "guess")).status_code == 401
    assert "address:192.0.2.50" in await failure_addresses(sessionmaker)


# --- sessions -------------------------------------------------------------------------------


async def test_logout_ends_the_session(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")
    cookie = client.cookies[SESSION_COOKIE]

    response = await client.post("/api/auth/logout")

    assert response.status_code == 204
    assert SESSION_COOKIE not in client.cookies
    assert_problem(await client.get("/api/auth/me"), 401, "unauthenticated")
    # The old value is dead on the server too, not only forgotten by this browser.
    client.cookies.set(SESSION_COOKIE, cookie)
    assert (await client.get("/api/auth/me")).status_code == 401
    async with sessionmaker() as session:
        assert await session.scalar(select(func.count()).select_from(UserSession)) == 0


async def test_an_expired_session_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(UserSession).values(expires_at=func.now() - text("interval '1 second'"))
        )

    assert_problem(await client.get("/api/auth/me"), 401, "unauthenticated")


async def test_sessions_are_stored_as_hashes(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")
    cookie = client.cookies[SESSION_COOKIE]
    async with sessionmaker() as session:
        stored = (await session.scalars(select(UserSession.token_hash))).all()
    assert len(stored) == 1
    assert stored[0] != cookie
    assert cookie not in stored[0]


@pytest.mark.parametrize("path", ["/api/auth/me", "/api/apps"])
async def test_no_credentials_is_401_problem(client: AsyncClient, path: str) -> None:
    body = assert_problem(await client.get(path), 401, "unauthenticated")
    assert body["title"] == "Unauthorized"
    assert body["detail"]


async def test_a_bad_bearer_token_is_refused_even_with_a_cookie(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")
    response = await client.get("/api/auth/me", headers=bearer("cit_abcdefgh_not-a-real-token"))
    assert_problem(response, 401, "unauthenticated")


# --- the Origin check -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "https://evil.example"},
        {"Origin": "null"},
        {"Origin": "http://testserver.evil.example"},
        {"Referer": "https://evil.example/page"},
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
async def test_a_cookie_post_from_a_foreign_origin_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], headers: dict[str, str]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")

    response = await client.post("/api/auth/logout", headers=headers)

    assert_problem(response, 403, "foreign_origin")
    assert (await client.get("/api/auth/me")).status_code == 200  # still signed in


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": "http://testserver"},
        {"Origin": "HTTP://TestServer:80"},
        {"Referer": "http://testserver/#/apps"},
        {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
        {},  # not a browser: curl with a cookie cannot be a forged request
    ],
)
async def test_a_cookie_post_from_the_same_origin_is_accepted(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], headers: dict[str, str]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")
    assert (await client.post("/api/auth/logout", headers=headers)).status_code == 204


async def test_a_cookie_get_from_a_foreign_origin_is_served(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")
    response = await client.get("/api/auth/me", headers={"Origin": "https://evil.example"})
    assert response.status_code == 200


async def test_public_origin_setting_decides_the_own_origin(
    client: AsyncClient,
    app: FastAPI,
    sessionmaker: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")
    monkeypatch.setattr(app.state.settings, "public_origin", "https://cases.example.org")

    own = await client.post("/api/auth/logout", headers={"Origin": "http://testserver"})
    assert_problem(own, 403, "foreign_origin")
    public = await client.post("/api/auth/logout", headers={"Origin": "https://cases.example.org"})
    assert public.status_code == 204


@pytest.mark.parametrize(
    "headers", [{"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}]
)
async def test_login_from_a_foreign_origin_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], headers: dict[str, str]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    response = await client.post(
        "/api/auth/login",
        json={"email": "ada@example.org", "password": PASSWORD},
        headers=headers,
    )
    assert_problem(response, 403, "foreign_origin")
    assert "set-cookie" not in response.headers
