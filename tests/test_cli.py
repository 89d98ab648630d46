"""The console script, run in-process against the test database (conftest sets DATABASE_URL).

``main`` runs its own event loop (asyncio.run), so it is called in a thread, away from the
test's running loop.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import os
import socket
import sys
from pathlib import Path

import httpx
import pytest
import uvicorn
from httpx import AsyncClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.apps.models import Membership
from api.config import Settings, get_settings
from cli.commands.servers import cmd_api
from cli.main import main
from tests.factories import bearer, make_app, make_user, sign_in


async def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()  # what earlier steps printed is not this command's
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_create_user_prints_a_password_that_signs_in(
    client: AsyncClient, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await run(capsys, "create-user", "Ada@Example.org")

    assert code == 0
    password = out.strip()
    assert len(password) >= 16
    assert out == password + "\n"  # only the password on stdout, for scripts to capture
    assert "ada@example.org" in err
    await sign_in(client, "ada@example.org", password)
    assert (await client.get("/api/auth/me")).json()["is_owner"] is False


async def test_create_owner_with_a_password_from_stdin(
    client: AsyncClient, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("a long enough secret\n"))

    code, out, _ = await run(
        capsys, "create-user", "owner@example.org", "--owner", "--password-stdin"
    )

    assert (code, out) == (0, "")
    await sign_in(client, "owner@example.org", "a long enough secret")
    assert (await client.get("/api/auth/me")).json()["is_owner"] is True


async def test_create_user_refuses_a_short_password(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    code, out, err = await run(capsys, "create-user", "ada@example.org", "--password-stdin")
    assert (code, out) == (1, "")
    assert err.startswith("caseimport: The password is too short")


async def test_create_user_refuses_a_taken_email(
    sessionmaker: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    code, _, err = await run(capsys, "create-user", "ADA@example.org")
    assert code == 1
    assert err == "caseimport: A user with the email ada@example.org exists already.\n"


async def test_create_app_grant_and_token(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_user(sessionmaker, "ada@example.org")

    assert (await run(capsys, "create-app", "field-ops", "Field operations"))[0] == 0
    assert (await run(capsys, "grant", "ada@example.org", "field-ops", "--role", "viewer"))[0] == 0
    assert (await run(capsys, "grant", "ada@example.org", "field-ops", "--role", "admin"))[0] == 0
    code, out, _ = await run(
        capsys, "create-token", "ada@example.org", "field-ops", "--expires-days", "30"
    )

    assert code == 0
    token = out.strip()
    assert token.startswith("cit_")
    response = await client.get("/api/apps/field-ops", headers=bearer(token))
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    async with sessionmaker() as session:
        roles = (await session.scalars(select(Membership.role))).all()
    assert roles == ["admin"]


async def test_create_app_refuses_a_bad_slug_and_a_taken_one(
    sessionmaker: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await make_app(sessionmaker, "field-ops")
    code, _, err = await run(capsys, "create-app", "Field Ops", "Field operations")
    assert code == 1
    assert err.startswith("caseimport: A slug is lower-case letters")
    code, _, err = await run(capsys, "create-app", "field-ops", "Again")
    assert (code, err) == (1, "caseimport: An app 'field-ops' exists already.\n")


async def test_create_token_needs_a_role_in_the_app(
    sessionmaker: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await make_app(sessionmaker, "field-ops")

    code, out, err = await run(capsys, "create-token", "ada@example.org", "field-ops")

    assert (code, out) == (1, "")
    assert err == "caseimport: ada@example.org has no role in field-ops; grant one first.\n"
    code, _, err = await run(capsys, "create-token", "nobody@example.org", "field-ops")
    assert (code, err) == (1, "caseimport: There is no user with the email nobody@example.org.\n")
    code, _, err = await run(capsys, "create-token", "ada@example.org", "nowhere")
    assert (code, err) == (1, "caseimport: There is no app 'nowhere'.\n")


async def test_an_owner_gets_a_token_for_any_app(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_app(sessionmaker, "field-ops")
    code, out, _ = await run(
        capsys, "create-token", "owner@example.org", "field-ops", "--name", "nightly"
    )
    assert code == 0
    listed = await client.get("/api/apps/field-ops/tokens", headers=bearer(out.strip()))
    assert [item["name"] for item in listed.json()["items"]] == ["nightly"]


async def test_create_token_refuses_a_bad_expiry(
    sessionmaker: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_app(sessionmaker, "field-ops")
    code, _, err = await run(
        capsys, "create-token", "owner@example.org", "field-ops", "--expires-days", "0"
    )
    assert (code, err) == (1, "caseimport: expires_days must be between 1 and 3650.\n")


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["no-such-command"],
        ["grant", "ada@example.org", "field-ops", "--role", "owner"],
        ["grant", "ada@example.org", "field-ops"],
        ["create-token", "ada@example.org", "field-ops", "--expires-days", "soon"],
        ["api", "--port", "http"],
    ],
)
async def test_bad_usage_exits_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    code, out, err = await run(capsys, *argv)
    assert (code, out) == (2, "")
    assert "usage: caseimport" in err


async def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = await run(capsys, "--help")
    assert code == 0
    for command in ("api", "worker", "migrate", "create-user", "create-app", "grant"):
        assert command in out


async def test_migrate_on_an_up_to_date_database(
    sessionmaker: async_sessionmaker[AsyncSession], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await run(capsys, "migrate")
    assert (code, out) == (0, "")
    assert "up to date" in err


async def _api_log(access_log: str) -> str:
    """What ``caseimport api`` prints (uvicorn's access log is on standard output, the rest on
    standard error) while it answers one request."""
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "CASEIMPORT_ACCESS_LOG": access_log}
    api = await asyncio.create_subprocess_exec(
        str(Path(sys.executable).parent / "caseimport"),
        *("api", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    started = False
    try:
        async with AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            # Generous: on a machine shared with other test runs a start can take seconds.
            deadline = asyncio.get_running_loop().time() + 60
            while not started and asyncio.get_running_loop().time() < deadline:
                with contextlib.suppress(httpx.TransportError):
                    started = (await client.get("/healthz")).status_code == 200
                await asyncio.sleep(0.1)
    finally:
        api.terminate()
        out, _ = await api.communicate()
    assert started, f"the API did not start:\n{out.decode()}"
    return out.decode()


async def test_the_api_logs_each_request_unless_told_not_to() -> None:
    assert '"GET /healthz HTTP/1.1" 200' in await _api_log("true")
    quiet = await _api_log("false")
    assert "Application startup complete" in quiet
    assert "GET /healthz" not in quiet


async def test_set_password_gives_a_lost_password_back_and_ends_sessions(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await sign_in(client, "ada@example.org")
    code, out, err = await run(capsys, "set-password", "Ada@Example.org")
    assert code == 0
    assert "their sessions have ended" in err
    new = out.strip()
    assert (await client.get("/api/auth/me")).status_code == 401  # the old session is gone
    refused = await client.post(
        "/api/auth/login", json={"email": "ada@example.org", "password": "correct horse 1"}
    )
    assert refused.status_code == 401
    await sign_in(client, "ada@example.org", new)
    code, out, _ = await run(capsys, "set-password", "nobody@example.org")
    assert code == 1


async def test_users_and_tokens_listed_and_revoked(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    capsys: pytest.CaptureFixture[str],
) -> None:
    await make_user(sessionmaker, "ada@example.org")
    await make_user(sessionmaker, "owner@example.org", owner=True)
    await make_app(sessionmaker, "field-ops")
    await run(capsys, "grant", "ada@example.org", "field-ops", "--role", "admin")
    code, out, _ = await run(capsys, "users", "list")
    assert (code, out.splitlines()) == (
        0,
        ["ada@example.org\tuser\tadmin of field-ops", "owner@example.org\towner\t-"],
    )
    _, secret, _ = await run(capsys, "create-token", "ada@example.org", "field-ops", "--name", "ci")
    code, out, _ = await run(capsys, "tokens", "list", "field-ops")
    [line] = out.splitlines()
    token_id, prefix, name, email, *_ = line.split("\t")
    assert (code, name, email, secret.startswith(prefix)) == (0, "ci", "ada@example.org", True)
    assert (await run(capsys, "tokens", "revoke", "field-ops", token_id))[0] == 0
    refused = await client.get("/api/apps/field-ops", headers=bearer(secret.strip()))
    assert refused.status_code == 401
    assert (await run(capsys, "tokens", "list", "field-ops"))[1] == ""


async def test_a_database_problem_is_one_line_naming_the_setting(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/caseimport_missing")
    get_settings.cache_clear()
    try:
        code, out, err = await run(capsys, "create-app", "field-ops", "Field operations")
    finally:
        get_settings.cache_clear()
    assert (code, out) == (1, "")
    assert err == (
        "caseimport: the database at 127.0.0.1:5432/caseimport_missing cannot be used: database "
        '"caseimport_missing" does not exist (run `caseimport migrate` first, or check '
        "DATABASE_URL)\n"
    )


@pytest.mark.parametrize(
    ("trusted", "proxy_headers", "allowed"),
    [("", False, None), ("10.0.0.5, 10.1.0.0/16", True, "10.0.0.5, 10.1.0.0/16")],
)
def test_the_api_believes_forwarded_headers_only_from_trusted_proxies(
    monkeypatch: pytest.MonkeyPatch, trusted: str, proxy_headers: bool, allowed: str | None
) -> None:
    seen: dict[str, object] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: seen.update(kwargs))

    args = argparse.Namespace(host="127.0.0.1", port=8000)
    assert cmd_api(args, Settings(trusted_proxies=trusted)) == 0

    # Without the setting uvicorn would trust X-Forwarded-For from 127.0.0.1 by default.
    assert seen["proxy_headers"] is proxy_headers
    assert seen["forwarded_allow_ips"] == allowed
