"""Helpers for tests that upload a file and let the real worker import it."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.cases.models import Case
from tests.factories import AdminSetup
from tests.worker_harness import run_worker

ADD_HEADER = "tag_id,case_status,date_opened,about\r\n"


async def upload(
    client: AsyncClient,
    admin: AdminSetup,
    content: bytes | None,
    *,
    name: str = "November intake",
    type_: str = "cases.add",
    filename: str = "cases.csv",
    **fields: str,
) -> dict[str, Any]:
    files = {"file": (filename, content, "text/csv")} if content is not None else None
    response = await client.post(
        f"/api/apps/{admin.slug}/imports",
        data={"name": name, "type": type_, **fields},
        files=files,
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def get_import(client: AsyncClient, admin: AdminSetup, import_id: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{import_id}", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def import_file(
    client: AsyncClient, admin: AdminSetup, content: bytes | str, **options: str
) -> dict[str, Any]:
    """Upload, run the worker until the queue is empty, and answer the finished import."""
    data = content.encode() if isinstance(content, str) else content
    created = await upload(client, admin, data, **options)
    await run_worker()
    return await get_import(client, admin, created["id"])


async def errors_of(client: AsyncClient, admin: AdminSetup, import_id: str) -> list[dict[str, Any]]:
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{import_id}/errors",
        params={"limit": 500},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def where(errors: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(line, column, code) of each error."""
    return [(e["line"], e["column"], e["code"]) for e in errors]


async def count_cases(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(Case)) or 0)


async def cases_by_tag(sessionmaker: async_sessionmaker[AsyncSession]) -> dict[str, Case]:
    async with sessionmaker() as session:
        return {c.tag_id: c for c in (await session.execute(select(Case))).scalars()}


async def case_fields(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> dict[str, tuple[Any, ...]]:
    """Every case's fields (with its description's key), by tag: the state an import leaves."""
    return {
        tag: (c.case_status, c.date_opened, c.about, c.about_key)
        for tag, c in (await cases_by_tag(sessionmaker)).items()
    }
