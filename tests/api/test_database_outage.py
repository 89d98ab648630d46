"""A database restart or outage as clients see it: pooled connections that died are replaced
without a failed request, and while the database is away requests answer 503 with Retry-After,
never 500."""

from __future__ import annotations

import asyncio

from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from api.config import Settings
from api.main import create_app
from tests.factories import admin_setup


async def test_requests_after_the_database_ended_every_session_succeed(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    admin = await admin_setup(sessionmaker)
    assert (await client.get("/api/apps", headers=admin.headers)).status_code == 200
    # What a restart does to the API's pooled connections.
    async with engine.connect() as conn:
        await conn.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        )
    answers = await asyncio.gather(
        *(client.get("/api/apps", headers=admin.headers) for _ in range(8))
    )
    assert [a.status_code for a in answers] == [200] * 8


async def test_with_the_database_unreachable_requests_answer_503_with_retry_after(
    settings: Settings, app: FastAPI
) -> None:
    away = create_app(
        settings.model_copy(update={"database_url": "postgresql://postgres@127.0.0.1:1/gone"})
    )
    async with (
        away.router.lifespan_context(away),
        AsyncClient(transport=ASGITransport(app=away), base_url="http://testserver") as client,
    ):
        for path in ("/api/apps", "/api/auth/me"):
            answer = await client.get(path, headers={"Authorization": "Bearer cit_anything"})
            assert answer.status_code == 503, answer.text
            assert answer.headers["Retry-After"] == "2"
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["code"] == "service_unavailable"
        login = await client.post(
            "/api/auth/login", json={"email": "a@example.org", "password": "whatever"}
        )
        assert login.status_code == 503, login.text
