"""Plain helpers that make the people, apps and tokens a test needs, each in its own committed unit
of work (the conftest empties every table after each test).

    user = await make_user(sessionmaker, "ada@example.org")
    await make_app(sessionmaker, "field-ops")
    await make_member(sessionmaker, "ada@example.org", "field-ops", "viewer")
    token = await make_token(sessionmaker, "ada@example.org", "field-ops")
    await sign_in(client, "ada@example.org")               # the client keeps the cookie

    admin = await admin_setup(sessionmaker)                # an admin of "field-ops" with a token
    await client.get("/api/apps/field-ops/imports", headers=admin.headers)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import cache
from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.apps import service as apps_service
from api.apps.models import App
from api.auth import passwords
from api.auth import service as auth_service
from api.auth.models import User
from api.auth.principal import Role
from api.db import unit_of_work

PASSWORD = "correct horse 1"


@cache
def _password_hash(password: str) -> str:
    # argon2 costs a few hundred milliseconds a hash; a test suite making hundreds of users with
    # the same password hashes it once. (create_user itself is tested through the CLI.)
    return passwords.hash_password(password)


async def make_user(
    sessionmaker: async_sessionmaker[AsyncSession],
    email: str,
    password: str = PASSWORD,
    owner: bool = False,
) -> User:
    user = User(
        email=auth_service.normalize_email(email),
        password_hash=_password_hash(password),
        is_owner=owner,
    )
    async with unit_of_work(sessionmaker) as session:
        session.add(user)
    return user


async def make_app(
    sessionmaker: async_sessionmaker[AsyncSession], slug: str, name: str | None = None
) -> App:
    async with unit_of_work(sessionmaker) as session:
        return await apps_service.create_app(session, slug, name or slug.replace("-", " ").title())


async def make_member(
    sessionmaker: async_sessionmaker[AsyncSession], email: str, slug: str, role: Role
) -> None:
    async with unit_of_work(sessionmaker) as session:
        await apps_service.grant(session, email, slug, role)


async def make_token(
    sessionmaker: async_sessionmaker[AsyncSession],
    email: str,
    slug: str,
    expires_days: int | None = None,
) -> str:
    """A bearer token of the user for the app (the user needs a role there to use it)."""
    async with unit_of_work(sessionmaker) as session:
        user = await auth_service.get_user_by_email(session, email)
        app_id = (await session.execute(select(App.id).where(App.slug == slug))).scalar_one()
        _, secret = await auth_service.create_token(session, user.id, app_id, "test", expires_days)
    return secret


async def sign_in(client: AsyncClient, email: str, password: str = PASSWORD) -> None:
    """Sign the client in; it keeps the session cookie for the requests that follow."""
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """Assert an RFC 9457 problem document with this status and code; answer its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys(), body
    assert (body["status"], body["code"]) == (status, code), body
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True, slots=True)
class AdminSetup:
    """An app, a user who is admin of it (not an owner), and that user's bearer token for it."""

    slug: str
    app_id: uuid.UUID
    email: str
    user_id: uuid.UUID
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.token)


async def admin_setup(
    sessionmaker: async_sessionmaker[AsyncSession],
    slug: str = "field-ops",
    email: str = "admin@example.org",
) -> AdminSetup:
    """The usual start of an app-scoped API test: send ``headers=setup.headers``, or
    ``sign_in(client, setup.email)`` for the cookie (the password is ``PASSWORD``)."""
    user = await make_user(sessionmaker, email)
    app = await make_app(sessionmaker, slug)
    await make_member(sessionmaker, email, slug, "admin")
    token = await make_token(sessionmaker, email, slug)
    return AdminSetup(slug=slug, app_id=app.id, email=user.email, user_id=user.id, token=token)
