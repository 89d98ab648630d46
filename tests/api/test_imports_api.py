"""The imports API as HTTP clients see it: drafts, files, cancel, idempotency, paging, access."""

from __future__ import annotations

import asyncio
import base64
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from httpx import AsyncClient, Response
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from api.db import unit_of_work
from api.imports.models import FileChunk, IdempotencyKey, Import
from api.paging import encode_cursor
from tests.factories import admin_setup, assert_problem, bearer, make_member, make_token, make_user
from tests.importing import ADD_HEADER, count_cases, errors_of, get_import, upload, where
from tests.worker_harness import run_worker

GOOD = (ADD_HEADER + "A-1,1,1/2/2024,One\r\nA-2,0,1/3/2024,Two\r\n").encode()


async def count(sessionmaker: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessionmaker() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_draft_then_attach_file_completes(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    draft = await upload(client, admin, None, name="later")
    assert (draft["status"], draft["file"]) == ("draft", None)
    await run_worker()
    assert (await get_import(client, admin, draft["id"]))["status"] == "draft"

    attached = await client.put(
        f"/api/apps/{admin.slug}/imports/{draft['id']}/file",
        files={"file": ("later.csv", GOOD, "text/csv")},
        headers=admin.headers,
    )
    assert attached.status_code == 200, attached.text
    assert attached.json()["status"] == "queued"
    await run_worker()
    done = await get_import(client, admin, draft["id"])
    assert done["status"] == "completed"
    assert done["result"]["created"] == 2


async def test_a_later_import_has_a_later_id(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # Time-ordered (UUIDv7): each import's recorded changes go at the end of their index.
    admin = await admin_setup(sessionmaker)
    ids = [uuid.UUID((await upload(client, admin, None, name=f"d{n}"))["id"]) for n in range(5)]
    assert ids == sorted(ids)
    assert {i.version for i in ids} == {7}


async def test_corrected_file_replaces_failed_one(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    bad = await upload(client, admin, (ADD_HEADER + "A-1,1,13/13/2024,One\r\n").encode())
    await run_worker()
    assert (await get_import(client, admin, bad["id"]))["status"] == "failed"

    fixed = await client.put(
        f"/api/apps/{admin.slug}/imports/{bad['id']}/file",
        files={"file": ("fixed.csv", GOOD, "text/csv")},
        headers=admin.headers,
    )
    assert fixed.status_code == 200
    body = fixed.json()
    assert (body["status"], body["error"], body["result"]) == ("queued", None, None)
    assert body["file"]["filename"] == "fixed.csv"
    await run_worker()
    done = await get_import(client, admin, bad["id"])
    assert done["status"] == "completed"
    assert await errors_of(client, admin, bad["id"]) == []
    # The first file is kept beside the corrected one, with how its run ended.
    kept = await client.get(
        f"/api/apps/{admin.slug}/imports/{bad['id']}/files", headers=admin.headers
    )
    assert [(f["filename"], f["status"], f["current"]) for f in kept.json()["items"]] == [
        ("cases.csv", "failed", False),
        ("fixed.csv", "completed", True),
    ]

    again = await client.put(
        f"/api/apps/{admin.slug}/imports/{bad['id']}/file",
        files={"file": ("x.csv", GOOD, "text/csv")},
        headers=admin.headers,
    )
    assert_problem(again, 409, "import_not_editable")


async def test_cancel_queued_import_applies_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    cancelled = await client.post(
        f"/api/apps/{admin.slug}/imports/{created['id']}/cancel", headers=admin.headers
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    await run_worker()  # the job still runs, finds the import cancelled, and does nothing
    assert (await get_import(client, admin, created["id"]))["status"] == "cancelled"
    assert await count_cases(sessionmaker) == 0
    again = await client.post(
        f"/api/apps/{admin.slug}/imports/{created['id']}/cancel", headers=admin.headers
    )
    assert_problem(again, 409, "import_not_cancellable")


async def test_name_is_unique_per_app_and_field_errors_are_located(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await upload(client, admin, None, name="Intake")
    taken = await client.post(
        f"/api/apps/{admin.slug}/imports",
        data={"name": "Intake", "type": "cases.add"},
        headers=admin.headers,
    )
    body = assert_problem(taken, 409, "name_taken")
    assert body["errors"][0]["loc"] == ["body", "name"]

    unknown = await client.post(
        f"/api/apps/{admin.slug}/imports",
        data={"name": "x", "type": "cases.merge"},
        headers=admin.headers,
    )
    body = assert_problem(unknown, 422, "invalid_request")
    assert body["errors"][0]["loc"] == ["body", "type"]
    assert "cases.add" in body["errors"][0]["message"]

    other = await admin_setup(sessionmaker, slug="other-app", email="other@example.org")
    assert (await upload(client, other, None, name="Intake"))["status"] == "draft"


async def test_too_large_upload_is_refused_and_nothing_is_stored(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], app: object
) -> None:
    admin = await admin_setup(sessionmaker)
    settings = app.state.settings  # type: ignore[attr-defined]
    limit = settings.max_upload_bytes
    settings.max_upload_bytes = 1000
    try:
        big = ADD_HEADER.encode() + b"A-1,1,1/2/2024," + b"x" * 2000 + b"\r\n"
        response = await client.post(
            f"/api/apps/{admin.slug}/imports",
            data={"name": "big", "type": "cases.add"},
            files={"file": ("big.csv", big, "text/csv")},
            headers=admin.headers,
        )
    finally:
        settings.max_upload_bytes = limit
    body = assert_problem(response, 413, "file_too_large")
    assert body["errors"][0]["loc"] == ["body", "file"]
    assert await count(sessionmaker, Import) == 0
    assert await count(sessionmaker, FileChunk) == 0


async def test_idempotency_key_replays_and_refuses_a_different_request(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    headers = {**admin.headers, "Idempotency-Key": "push-123"}
    form = {"name": "nightly", "type": "cases.add"}
    files = {"file": ("c.csv", GOOD, "text/csv")}
    url = f"/api/apps/{admin.slug}/imports"
    first = await client.post(url, data=form, files=files, headers=headers)
    assert first.status_code == 201
    second = await client.post(url, data=form, files=files, headers=headers)
    assert second.status_code == 200
    assert second.headers["Idempotent-Replayed"] == "true"
    assert second.json()["id"] == first.json()["id"]
    assert await count(sessionmaker, Import) == 1

    other_file = {"file": ("c.csv", GOOD + b"A-3,1,1/2/2024,Three\r\n", "text/csv")}
    changed = await client.post(url, data=form, files=other_file, headers=headers)
    assert_problem(changed, 422, "idempotency_key_reused")

    # The key belongs to its caller: another admin of the app with the same key makes a new one.
    await make_user(sessionmaker, "second@example.org")
    await make_member(sessionmaker, "second@example.org", admin.slug, "admin")
    token = await make_token(sessionmaker, "second@example.org", admin.slug)
    theirs = await client.post(
        url,
        data={**form, "name": "theirs"},
        files=files,
        headers={**bearer(token), "Idempotency-Key": "push-123"},
    )
    assert theirs.status_code == 201


async def test_refused_request_uses_up_no_key(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    headers = {**admin.headers, "Idempotency-Key": "k-1"}
    url = f"/api/apps/{admin.slug}/imports"
    refused = await client.post(url, data={"name": "", "type": "cases.add"}, headers=headers)
    assert refused.status_code == 422
    assert await count(sessionmaker, IdempotencyKey) == 0
    ok = await client.post(url, data={"name": "fine", "type": "cases.add"}, headers=headers)
    assert ok.status_code == 201


async def test_repeat_while_first_is_stored_answers_409(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    headers = {
        **admin.headers,
        "Idempotency-Key": "slow",
        "Content-Type": "multipart/form-data; boundary=b",
    }
    url = f"/api/apps/{admin.slug}/imports"
    release = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nslow\r\n'
        yield b'--b\r\nContent-Disposition: form-data; name="type"\r\n\r\ncases.add\r\n'
        await release.wait()
        yield b"--b--\r\n"

    first = asyncio.create_task(client.post(url, content=slow_body(), headers=headers))
    await asyncio.sleep(0.3)
    repeat = await client.post(
        url,
        data={"name": "slow", "type": "cases.add"},
        headers={**admin.headers, "Idempotency-Key": "slow"},
    )
    release.set()
    assert_problem(repeat, 409, "idempotency_in_progress")
    assert (await first).status_code == 201


async def test_parallel_replays_of_a_finished_key_all_answer_200(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    headers = {**admin.headers, "Idempotency-Key": "nightly-1"}
    form = {"name": "nightly", "type": "cases.add"}
    url = f"/api/apps/{admin.slug}/imports"

    async def send() -> Response:
        return await client.post(
            url, data=form, files={"file": ("c.csv", GOOD, "text/csv")}, headers=headers
        )

    first = await send()
    assert first.status_code == 201
    await run_worker()
    assert (await get_import(client, admin, first.json()["id"]))["status"] == "completed"

    # Replays hold no lock against each other: only a first request still in flight is a 409.
    replays = await asyncio.gather(*(send() for _ in range(10)))

    assert [r.status_code for r in replays] == [200] * 10, [r.text for r in replays]
    assert {r.json()["id"] for r in replays} == {first.json()["id"]}
    assert {r.headers["Idempotent-Replayed"] for r in replays} == {"true"}
    assert await count(sessionmaker, Import) == 1


async def test_an_expired_key_is_free_again(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await admin_setup(sessionmaker)
    headers = {**admin.headers, "Idempotency-Key": "old"}
    url = f"/api/apps/{admin.slug}/imports"
    first = await client.post(url, data={"name": "one", "type": "cases.add"}, headers=headers)
    assert first.status_code == 201
    async with unit_of_work(sessionmaker) as session:
        await session.execute(
            update(IdempotencyKey).values(
                created_at=func.now() - timedelta(hours=settings.idempotency_hours, seconds=1)
            )
        )

    second = await client.post(url, data={"name": "two", "type": "cases.add"}, headers=headers)

    assert second.status_code == 201, second.text
    assert second.json()["id"] != first.json()["id"]
    assert await count(sessionmaker, IdempotencyKey) == 1


async def test_a_boundary_too_long_to_parse_is_refused_on_both_uploads(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    # RFC 2046 allows 70 characters; the parser takes 256, and raised past that (a 500).
    admin = await admin_setup(sessionmaker)
    draft = await upload(client, admin, None)
    boundary = "b" * 300
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
        f"tag_id\r\n--{boundary}--\r\n"
    ).encode()
    headers = {**admin.headers, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    url = f"/api/apps/{admin.slug}/imports"
    for response in (
        await client.post(url, content=body, headers=headers),
        await client.put(f"{url}/{draft['id']}/file", content=body, headers=headers),
    ):
        problem = assert_problem(response, 422, "invalid_request")
        assert "boundary" in problem["detail"]
    assert (await get_import(client, admin, draft["id"]))["status"] == "draft"


async def test_list_pages_newest_first_with_filters(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    for n in range(5):
        await upload(
            client, admin, None, name=f"draft {n}", type_="cases.modify" if n == 4 else "cases.add"
        )
    url = f"/api/apps/{admin.slug}/imports"
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get(url, params=params, headers=admin.headers)).json()
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"draft {n}" for n in range(4, -1, -1)]
    only = (await client.get(url, params={"type": "cases.modify"}, headers=admin.headers)).json()
    assert [i["name"] for i in only["items"]] == ["draft 4"]
    drafts = (await client.get(url, params={"status": "draft"}, headers=admin.headers)).json()
    assert len(drafts["items"]) == 5
    assert_problem(
        await client.get(url, params={"limit": 501}, headers=admin.headers), 422, "invalid_request"
    )
    assert_problem(
        await client.get(url, params={"cursor": "garbage"}, headers=admin.headers),
        422,
        "invalid_cursor",
    )


async def test_another_tenants_import_answers_404(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    mine = await admin_setup(sessionmaker)
    theirs = await admin_setup(sessionmaker, slug="their-app", email="them@example.org")
    their_import = await upload(client, theirs, GOOD)
    base = f"/api/apps/{mine.slug}/imports/{their_import['id']}"
    for method, path in [
        ("GET", ""),
        ("GET", "/errors"),
        ("GET", "/errors.csv"),
        ("POST", "/cancel"),
    ]:
        response = await client.request(method, base + path, headers=mine.headers)
        assert_problem(response, 404, "import_not_found")
    # Their app itself, through my token: 404 too, never 403.
    response = await client.get(
        f"/api/apps/{theirs.slug}/imports/{their_import['id']}", headers=mine.headers
    )
    assert response.status_code == 404
    assert_problem(
        await client.get(f"/api/apps/{mine.slug}/imports/{uuid.uuid4()}", headers=mine.headers),
        404,
        "import_not_found",
    )


async def test_viewer_reads_but_cannot_import(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, None, name="draft")
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    viewer = bearer(await make_token(sessionmaker, "viewer@example.org", admin.slug))
    url = f"/api/apps/{admin.slug}/imports"
    assert (await client.get(url, headers=viewer)).status_code == 200
    assert (await client.get(f"{url}/{created['id']}", headers=viewer)).status_code == 200
    refused = await client.post(url, data={"name": "v", "type": "cases.add"}, headers=viewer)
    assert_problem(refused, 403, "admin_required")
    assert_problem(
        await client.post(f"{url}/{created['id']}/cancel", headers=viewer), 403, "admin_required"
    )
    assert_problem(await client.get(url), 401, "unauthenticated")


async def test_errors_csv_is_safe_for_spreadsheets(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = ADD_HEADER + '=HYPERLINK("x"),1,1/2/2024,One\r\n+2,1,1/2/2024,Two\r\n'
    created = await upload(client, admin, content.encode())
    await run_worker()
    assert where(await errors_of(client, admin, created["id"])) == [
        (2, "tag_id", "invalid_tag_id"),
        (3, "tag_id", "invalid_tag_id"),
    ]
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{created['id']}/errors.csv", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "column", "value", "code", "message"]
    assert rows[1][:4] == ["2", "tag_id", '\'=HYPERLINK("x")', "invalid_tag_id"]
    assert rows[2][2] == "'+2"
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)


async def test_errors_page_in_line_order(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    lines = "".join(f"T-{n},1,1/2/2024,x{n}\r\n" for n in range(12))
    content = ADD_HEADER + lines + "T-3,1,1/2/2024,again\r\n" + "BAD_1,1,1/2/2024,bad\r\n"
    created = await upload(client, admin, content.encode())
    await run_worker()
    url = f"/api/apps/{admin.slug}/imports/{created['id']}/errors"
    first = (await client.get(url, params={"limit": 1}, headers=admin.headers)).json()
    assert first["error_count"] == 2
    assert first["kept_limit"] == 1000  # the default of CASEIMPORT_MAX_KEPT_ERRORS
    assert [(e["line"], e["code"]) for e in first["items"]] == [(14, "duplicate_in_file")]
    second = (
        await client.get(
            url, params={"limit": 1, "cursor": first["next_cursor"]}, headers=admin.headers
        )
    ).json()
    assert [(e["line"], e["code"]) for e in second["items"]] == [(15, "invalid_tag_id")]
    assert second["next_cursor"] is None


async def test_import_types_list_and_samples(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    assert_problem(await client.get("/api/import-types"), 401, "unauthenticated")
    types = (await client.get("/api/import-types", headers=admin.headers)).json()
    assert [t["key"] for t in types] == ["cases.add", "cases.modify", "cases.upsert"]
    assert [t["label"] for t in types] == ["Add cases", "Modify cases", "Add or modify cases"]
    assert [c["name"] for c in types[0]["columns"]] == [
        "tag_id",
        "case_status",
        "date_opened",
        "about",
    ]
    assert all(c["required"] for c in types[0]["columns"])
    assert [c["required"] for c in types[1]["columns"]] == [True, False, False, False]
    assert [c["required"] for c in types[2]["columns"]] == [True, False, False, False]
    for t in types:
        sample = await client.get(t["sample_url"])
        assert sample.status_code == 200
        assert sample.text.splitlines()[0] == "tag_id,case_status,date_opened,about"
        assert len(sample.text.splitlines()) == 3
    assert_problem(
        await client.get("/api/import-types/nope/sample.csv"), 404, "import_type_not_found"
    )


async def test_status_vocabulary_with_its_groups(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    assert_problem(await client.get("/api/import-statuses"), 401, "unauthenticated")
    statuses = (await client.get("/api/import-statuses", headers=admin.headers)).json()
    by_key = {s["key"]: s for s in statuses}
    assert list(by_key) == [
        "draft",
        "queued",
        "validating",
        "applying",
        "completed",
        "failed",
        "cancelled",
    ]
    assert (by_key["failed"]["label"], by_key["failed"]["symbol"]) == ("Failed", "✖")
    assert [k for k, s in by_key.items() if s["active"]] == ["queued", "validating", "applying"]
    assert [k for k, s in by_key.items() if s["cancellable"]] == ["draft", "queued", "validating"]
    assert [k for k, s in by_key.items() if s["attachable"]] == ["draft", "failed"]
    assert [k for k, s in by_key.items() if s["finished"]] == ["completed", "failed", "cancelled"]


async def test_a_cursor_that_does_not_parse_is_refused_on_every_list(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, GOOD)
    garbled = encode_cursor(["x", "y"])
    for path, sort in (
        ("imports", {}),
        (f"imports/{created['id']}/errors", {}),
        ("cases", {}),
        # In params: httpx's params replace a query written in the URL.
        ("cases", {"sort": "date_opened"}),
    ):
        response = await client.get(
            f"/api/apps/{admin.slug}/{path}",
            params={"cursor": garbled, **sort},
            headers=admin.headers,
        )
        assert_problem(response, 422, "invalid_cursor")


ZERO = str(uuid.UUID(int=0))


# Found by tests/api/test_no_server_errors.py: each of these cursors decoded, and its values went
# on to a query they broke, or broke the reading of them, and the list answered 500.
@pytest.mark.parametrize(
    ("path", "sort", "values"),
    [
        # A number where the import's id is, and times that leave the calendar in UTC.
        ("imports", None, ["2026-01-01T00:00:00+00:00", 1]),
        ("imports", None, ["0001-01-01T00:00:00+14:00", ZERO]),
        ("imports", None, ["9999-12-31T23:59:59-14:00", ZERO]),
        # Line numbers no integer column holds.
        ("imports/{id}/errors", None, [2**31]),
        ("imports/{id}/errors", None, [float("inf")]),
        # Text PostgreSQL cannot store, and ids no bigint holds.
        ("cases", "tag_id", ["a\x00b", 1]),
        ("cases", "tag_id", ["\ud800", 1]),
        ("cases", "tag_id", ["T-1", 2**63]),
        ("cases", "tag_id", ["T-1", float("inf")]),
        ("cases", "-updated_at", ["9999-12-31T23:59:59-14:00", 1]),
    ],
)
async def test_a_cursor_of_values_no_column_holds_is_refused(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    path: str,
    sort: str | None,
    values: list[object],
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, None)
    params = {"cursor": encode_cursor(values), **({"sort": sort} if sort else {})}
    response = await client.get(
        f"/api/apps/{admin.slug}/{path.format(id=created['id'])}",
        params=params,
        headers=admin.headers,
    )
    assert_problem(response, 422, "invalid_cursor")


async def test_a_cursor_nested_too_deep_to_read_is_refused(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, None)
    nested = base64.urlsafe_b64encode(b"[" * 20_000 + b"]" * 20_000).decode()
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{created['id']}/errors",
        params={"cursor": nested},
        headers=admin.headers,
    )
    assert_problem(response, 422, "invalid_cursor")
