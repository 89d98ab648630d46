"""A NUL character anywhere a client can put one answers a 422 problem, never a server error:
PostgreSQL stores no NUL in text."""

from __future__ import annotations

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import PASSWORD, admin_setup, assert_problem


@pytest.mark.parametrize(
    ("method", "path", "where"),
    [
        ("GET", "/api/apps/field-ops/cases?q=%00", ["query", "q"]),
        ("GET", "/api/apps/field-ops/cases/a%00b", ["path"]),
        ("GET", "/api/apps/field-ops/imports?type=%00", ["query", "type"]),
        ("GET", "/api/apps/field-ops/imports?cursor=x%00", ["query", "cursor"]),
        ("GET", "/api/apps/fi%00eld/cases", ["path"]),
    ],
)
async def test_a_nul_in_the_path_or_query_is_refused(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    method: str,
    path: str,
    where: list[str],
) -> None:
    admin = await admin_setup(sessionmaker)
    response = await client.request(method, path, headers=admin.headers)
    body = assert_problem(response, 422, "invalid_character")
    assert body["errors"][0]["loc"] == where


async def test_a_nul_in_a_json_body_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    await admin_setup(sessionmaker)
    login = await client.post(
        "/api/auth/login", json={"email": "admin\x00@example.org", "password": PASSWORD}
    )
    assert_problem(login, 422, "invalid_character")
    # An escaped backslash before "u0000" is text, not NUL: the request goes through.
    other = await client.post(
        "/api/auth/login",
        content=b'{"email": "a\\\\u0000@example.org", "password": "x"}',
        headers={"Content-Type": "application/json"},
    )
    assert other.status_code == 401, other.text


async def test_a_nul_in_a_form_field_is_refused_and_stores_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    url = f"/api/apps/{admin.slug}/imports"
    for files in (None, {"file": ("cases.csv", b"tag_id\r\n", "text/csv")}):
        response = await client.post(
            url,
            data={"name": "bad\x00name", "type": "cases.add"},
            files=files,
            headers=admin.headers,
        )
        body = assert_problem(response, 422, "invalid_character")
        assert body["errors"][0]["loc"] == ["body", "name"]
    listed = await client.get(url, headers=admin.headers)
    assert listed.json()["items"] == []
    # A NUL in the file's name is dropped, not refused.
    raw = (
        b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nfine\r\n'
        b'--b\r\nContent-Disposition: form-data; name="type"\r\n\r\ncases.add\r\n'
        b'--b\r\nContent-Disposition: form-data; name="file"; filename="ca\x00ses.csv"\r\n'
        b"Content-Type: text/csv\r\n\r\ntag_id\r\n--b--\r\n"
    )
    response = await client.post(
        url,
        content=raw,
        headers={**admin.headers, "Content-Type": "multipart/form-data; boundary=b"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["file"]["filename"] == "cases.csv"
