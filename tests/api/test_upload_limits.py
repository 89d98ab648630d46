"""Limits on what one upload may send and how many may be received at once: the form's fields
beside the file (declared and chunked bodies alike), and the caps per app and per token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient, Response
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.imports.models import Import, StoredFile
from api.main import create_app
from tests.factories import admin_setup, assert_problem, make_token, sign_in
from tests.importing import ADD_HEADER

BOUNDARY = "lim"
MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"
GOOD = (ADD_HEADER + "A-1,1,1/2/2024,One\r\n").encode()


def part(name: str, value: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
    ).encode()


def file_part(content: bytes) -> bytes:
    return (
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n"
        ).encode()
        + content
        + b"\r\n"
    )


END = f"--{BOUNDARY}--\r\n".encode()


async def stored(sessionmaker: async_sessionmaker[AsyncSession]) -> tuple[int, int]:
    async with sessionmaker() as session:
        imports = await session.scalar(select(func.count()).select_from(Import))
        files = await session.scalar(select(func.count()).select_from(StoredFile))
    return int(imports or 0), int(files or 0)


Send = Callable[[list[bytes]], Awaitable[tuple[Response, int]]]


def senders(client: AsyncClient, url: str, headers: dict[str, str]) -> dict[str, Send]:
    """The same parts sent with a Content-Length, and chunked (counting the parts sent)."""

    async def declared(parts: list[bytes]) -> tuple[Response, int]:
        body = b"".join(parts)
        response = await client.post(
            url, content=body, headers={**headers, "Content-Type": MULTIPART}
        )
        return response, len(parts)

    async def chunked(parts: list[bytes]) -> tuple[Response, int]:
        sent = 0

        async def body() -> AsyncIterator[bytes]:
            nonlocal sent
            for piece in parts:
                sent += 1
                yield piece

        response = await client.post(
            url, content=body(), headers={**headers, "Content-Type": MULTIPART}
        )
        assert "content-length" not in response.request.headers
        return response, sent

    return {"declared": declared, "chunked": chunked}


@pytest.mark.parametrize("how", ["declared", "chunked"])
async def test_too_many_fields_are_refused_naming_the_limit(
    how: str,
    client: AsyncClient,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await admin_setup(sessionmaker)
    send = senders(client, f"/api/apps/{admin.slug}/imports", admin.headers)[how]
    # The fault run's form: 10,000 fields (smaller here), beside a valid import.
    parts = [part("name", "many"), part("type", "cases.add")]
    parts += [part(f"x{n}", "1") for n in range(10_000)] + [END]
    response, sent = await send(parts)
    problem = assert_problem(response, 413, "form_too_large")
    assert f"{settings.upload_max_form_fields:,} fields" in problem["detail"]
    if how == "chunked":  # refused as soon as the limit is passed, not once the body is read
        assert sent <= settings.upload_max_form_fields + 2
    assert await stored(sessionmaker) == (0, 0)


@pytest.mark.parametrize("how", ["declared", "chunked"])
async def test_too_many_field_bytes_are_refused_naming_the_limit(
    how: str,
    client: AsyncClient,
    settings: Settings,
    sessionmaker: async_sessionmaker[AsyncSession],
) -> None:
    admin = await admin_setup(sessionmaker)
    send = senders(client, f"/api/apps/{admin.slug}/imports", admin.headers)[how]
    # Each field under the per-field limit (64 KiB); together over the form's.
    parts = [part("name", "big"), part("type", "cases.add")]
    parts += [part(f"x{n}", "v" * 60_000) for n in range(20)] + [file_part(GOOD), END]
    response, sent = await send(parts)
    problem = assert_problem(response, 413, "form_too_large")
    assert f"{settings.upload_max_form_bytes:,} bytes" in problem["detail"]
    if how == "chunked":
        assert sent <= settings.upload_max_form_bytes // 60_000 + 3
    assert await stored(sessionmaker) == (0, 0)


async def test_part_headers_count_towards_the_form_bytes(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    send = senders(client, f"/api/apps/{admin.slug}/imports", admin.headers)["chunked"]
    # The parser takes 8 headers of 4 KiB a part; parts full of them add up all the same.
    pads = "".join(f"X-Pad-{n}: {'p' * 4000}\r\n" for n in range(6))
    padded = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="p{n}"\r\n{pads}\r\nv\r\n'.encode()
        for n in range(20)
    ]
    response, _ = await send([part("name", "h"), *padded, END])
    assert_problem(response, 413, "form_too_large")


async def test_a_form_within_the_limits_is_taken(
    client: AsyncClient, settings: Settings, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    send = senders(client, f"/api/apps/{admin.slug}/imports", admin.headers)["chunked"]
    extra = settings.upload_max_form_fields - 2
    parts = [part("name", "fine"), part("type", "cases.add")]
    parts += [part(f"x{n}", "1") for n in range(extra)] + [file_part(GOOD), END]
    response, _ = await send(parts)
    assert response.status_code == 201, response.text
    assert await stored(sessionmaker) == (1, 1)


async def test_an_urlencoded_form_with_too_many_fields_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    fields = {"name": "d", "type": "cases.add", **{f"x{n}": "" for n in range(200)}}
    response = await client.post(
        f"/api/apps/{admin.slug}/imports", data=fields, headers=admin.headers
    )
    assert_problem(response, 413, "form_too_large")


@pytest.fixture
async def capped_app(settings: Settings) -> AsyncIterator[FastAPI]:
    capped = settings.model_copy(update={"upload_max_per_app": 3, "upload_max_per_token": 2})
    application = create_app(capped)
    async with application.router.lifespan_context(application):
        yield application


class HeldUploads:
    """Uploads whose bodies stop after their fields, until ``release()``."""

    def __init__(self, client: AsyncClient, url: str) -> None:
        self.client = client
        self.url = url
        self.gate = asyncio.Event()
        self.tasks: list[asyncio.Task[Response]] = []

    async def start(self, headers: dict[str, str], name: str) -> None:
        async def body() -> AsyncIterator[bytes]:
            yield part("name", name) + part("type", "cases.add") + file_part(GOOD)[:-2]
            await self.gate.wait()
            yield b"\r\n" + END

        headers = {**headers, "Content-Type": MULTIPART}
        self.tasks.append(
            asyncio.create_task(self.client.post(self.url, content=body(), headers=headers))
        )
        await asyncio.sleep(0.2)  # its headers are read and its slot taken

    async def release(self) -> list[int]:
        self.gate.set()
        return [(await task).status_code for task in self.tasks]


async def test_uploads_over_the_caps_answer_429_with_retry_after(
    capped_app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    other_token = await make_token(sessionmaker, admin.email, admin.slug)
    other = {"Authorization": f"Bearer {other_token}"}
    url = f"/api/apps/{admin.slug}/imports"
    transport = ASGITransport(app=capped_app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        held = HeldUploads(client, url)
        await held.start(admin.headers, "one")
        await held.start(admin.headers, "two")
        per_token = await client.post(
            url, data={"name": "t", "type": "cases.add"}, headers=admin.headers
        )
        problem = assert_problem(per_token, 429, "too_many_uploads")
        assert "2 uploads" in problem["detail"]
        assert per_token.headers["retry-after"].isdigit()

        await held.start(other, "three")  # another token: the app's third
        per_app = await client.post(url, data={"name": "a", "type": "cases.add"}, headers=other)
        problem = assert_problem(per_app, 429, "too_many_uploads")
        assert "This app already has 3 uploads" in problem["detail"]

        # Reading is not capped, and the slots come back when the uploads end.
        assert (await client.get(url, headers=admin.headers)).status_code == 200
        assert await held.release() == [201, 201, 201]
        later = await client.post(
            url, data={"name": "later", "type": "cases.add"}, headers=admin.headers
        )
        assert later.status_code == 201, later.text
    assert capped_app.state.uploads_in_flight.count(admin.app_id) == 0


async def test_a_signed_in_user_is_capped_like_a_token(
    capped_app: FastAPI, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    url = f"/api/apps/{admin.slug}/imports"
    transport = ASGITransport(app=capped_app)
    async with AsyncClient(transport=transport, base_url="http://testserver") as client:
        await sign_in(client, admin.email)
        held = HeldUploads(client, url)
        await held.start({}, "one")
        await held.start({}, "two")
        third = await client.post(url, data={"name": "t", "type": "cases.add"})
        problem = assert_problem(third, 429, "too_many_uploads")
        assert problem["detail"].startswith("You already have 2 uploads in progress")
        assert await held.release() == [201, 201]
