"""An import's files: the original upload downloaded as it came, and a corrected file kept
beside the one before it, each with how its run ended."""

from __future__ import annotations

from typing import Any

from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import (
    AdminSetup,
    admin_setup,
    assert_problem,
    bearer,
    make_member,
    make_token,
    make_user,
)
from tests.importing import ADD_HEADER, get_import, upload
from tests.worker_harness import run_worker

BAD = (ADD_HEADER + "R-1,1,13/13/2024,Relevé\r\nR-2,9,02/30/2024,Deux erreurs\r\n").encode()
FIXED = (ADD_HEADER + "R-1,1,1/13/2024,Relevé\r\nR-2,1,2/3/2024,Corrigé\r\n").encode()


def _url(admin: AdminSetup, import_id: str, tail: str) -> str:
    return f"/api/apps/{admin.slug}/imports/{import_id}/{tail}"


async def _get(client: AsyncClient, admin: AdminSetup, import_id: str, tail: str) -> Response:
    return await client.get(_url(admin, import_id, tail), headers=admin.headers)


async def _files(client: AsyncClient, admin: AdminSetup, import_id: str) -> list[dict[str, Any]]:
    response = await _get(client, admin, import_id, "files")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_the_original_upload_downloads_as_it_came_under_its_own_name(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, BAD, filename="relevé d'août.csv")

    response = await _get(client, admin, created["id"], "file")
    assert response.status_code == 200, response.text
    assert response.content == BAD
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["content-length"] == str(len(BAD))
    assert response.headers["content-disposition"] == (
        'attachment; filename="relev_ d\'ao_t.csv"; '
        "filename*=UTF-8''relev%C3%A9%20d%27ao%C3%BBt.csv"
    )


async def test_a_plain_ascii_name_needs_no_extended_form(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, BAD, filename="cases.csv")
    response = await _get(client, admin, created["id"], "file")
    assert response.headers["content-disposition"] == 'attachment; filename="cases.csv"'


async def test_a_corrected_file_keeps_the_one_before_with_how_its_run_ended(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, BAD, filename="first.csv")
    await run_worker()
    failed = await get_import(client, admin, created["id"])
    assert (failed["status"], failed["error"]["error_count"], failed["error"]["error_rows"]) == (
        "failed",
        3,
        2,
    )

    put = await client.put(
        _url(admin, created["id"], "file"),
        files={"file": ("second.csv", FIXED, "text/csv")},
        headers=admin.headers,
    )
    assert put.status_code == 200, put.text
    waiting = await _files(client, admin, created["id"])
    assert [(f["n"], f["status"], f["error_count"], f["current"]) for f in waiting] == [
        (1, "failed", 3, False),
        (2, "queued", None, True),
    ]

    await run_worker()
    assert (await get_import(client, admin, created["id"]))["status"] == "completed"
    files = await _files(client, admin, created["id"])
    first, second = files
    assert (first["filename"], first["size_bytes"], first["status"]) == (
        "first.csv",
        len(BAD),
        "failed",
    )
    assert (first["error_count"], first["error_rows"], first["purged_at"]) == (3, 2, None)
    assert (second["filename"], second["status"], second["error_count"]) == (
        "second.csv",
        "completed",
        0,
    )
    assert first["attached_at"] <= second["attached_at"]
    assert second["download_url"] == _url(admin, created["id"], "files/2")

    assert (await client.get(first["download_url"], headers=admin.headers)).content == BAD
    assert (await client.get(second["download_url"], headers=admin.headers)).content == FIXED
    assert (await _get(client, admin, created["id"], "file")).content == FIXED
    assert_problem(await _get(client, admin, created["id"], "files/3"), 404, "file_not_found")


async def test_only_admins_download_files_and_a_draft_has_none(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    created = await upload(client, admin, BAD)
    draft = await upload(client, admin, None, name="draft")
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    viewer = bearer(await make_token(sessionmaker, "viewer@example.org", admin.slug))

    for tail in ("file", "files/1"):
        refused = await client.get(_url(admin, created["id"], tail), headers=viewer)
        assert_problem(refused, 403, "admin_required")
    # A viewer sees what the import object shows of its files already.
    listed = await client.get(_url(admin, created["id"], "files"), headers=viewer)
    assert [f["filename"] for f in listed.json()["items"]] == ["cases.csv"]

    assert_problem(await _get(client, admin, draft["id"], "file"), 404, "file_not_found")
    assert await _files(client, admin, draft["id"]) == []
    other = await admin_setup(sessionmaker, slug="other-app", email="other@example.org")
    assert_problem(
        await client.get(
            _url(admin, created["id"], "file").replace(admin.slug, other.slug),
            headers=other.headers,
        ),
        404,
        "import_not_found",
    )


async def test_openapi_describes_the_file_routes(client: AsyncClient) -> None:
    paths = (await client.get("/api/openapi.json")).json()["paths"]
    base = "/api/apps/{app}/imports/{import_id}"
    download = paths[f"{base}/file"]["get"]["responses"]
    assert {"200", "403", "404", "410"} <= download.keys()
    assert "application/octet-stream" in download["200"]["content"]
    assert {"200", "403", "404", "410"} <= paths[f"{base}/files/{{n}}"]["get"]["responses"].keys()
    listed = paths[f"{base}/files"]["get"]["responses"]["200"]["content"]["application/json"]
    assert listed["schema"]["$ref"].endswith("/KeptFilePage")
    summary = paths[f"{base}/errors/summary"]["get"]["responses"]["200"]["content"]
    assert summary["application/json"]["schema"]["$ref"].endswith("/ErrorGroupsOut")
