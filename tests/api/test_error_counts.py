"""Errors counted apart from the rows they are on, grouped by code and column over every error
(not only the ones kept), and errors.csv as spreadsheets on Windows read it."""

from __future__ import annotations

import codecs
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from tests.factories import AdminSetup, admin_setup, assert_problem
from tests.importing import ADD_HEADER, errors_of, get_import, upload
from tests.worker_harness import make_worker

# Line 2: two bad cells; line 3: a bad date; lines 4 and 5: one tag twice (found by SQL);
# line 6: a bad date again.
CONTENT = (
    ADD_HEADER
    + "E-1,9,13/13/2024,Two bad cells\r\n"
    + "E-2,1,02/30/2024,A bad date\r\n"
    + "E-3,1,1/2/2024,Once\r\n"
    + "e-3,1,1/2/2024,Twice\r\n"
    + "E-4,1,2024-02-31,Another bad date\r\n"
)


async def _imported(
    client: AsyncClient, admin: AdminSetup, content: str, settings: Settings, **fields: str
) -> dict[str, Any]:
    """Upload and run the real worker, keeping only two errors in full."""
    created = await upload(client, admin, content.encode(), **fields)
    worker = make_worker(settings.model_copy(update={"max_kept_errors": 2}))
    try:
        await worker.async_run()
    finally:
        await worker.close()
    return await get_import(client, admin, created["id"])


async def _summary(client: AsyncClient, admin: AdminSetup, import_id: str) -> dict[str, Any]:
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{import_id}/errors/summary", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_errors_are_counted_apart_from_their_rows_and_grouped_over_all_of_them(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await _imported(client, admin, CONTENT, settings)

    assert done["status"] == "failed"
    assert (done["error"]["error_count"], done["error"]["error_rows"]) == (5, 4)
    assert done["error"]["summary"].startswith("4 rows have errors. Line 2, case_status: ")
    assert done["result"]["failed"] == 4

    page = (
        await client.get(
            f"/api/apps/{admin.slug}/imports/{done['id']}/errors", headers=admin.headers
        )
    ).json()
    assert (page["error_count"], page["error_rows"]) == (5, 4)
    assert len(page["items"]) == 2  # the worker kept two

    summary = await _summary(client, admin, done["id"])
    assert (summary["error_count"], summary["error_rows"]) == (5, 4)
    groups = [(g["code"], g["column"], g["count"], g["first_line"]) for g in summary["groups"]]
    # Most frequent first, then by their first line; the duplicate past the kept two counts too.
    assert groups == [
        ("invalid_date", "date_opened", 3, 2),
        ("invalid_status", "case_status", 1, 2),
        ("duplicate_in_file", "tag_id", 1, 5),
    ]
    dates = summary["groups"][0]
    assert "13/13/2024" in dates["message"]


async def test_skipped_rows_have_their_counts_and_groups_too(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await _imported(client, admin, CONTENT, settings, on_error="skip")

    assert done["status"] == "completed"
    assert (done["error"]["error_count"], done["error"]["error_rows"]) == (5, 4)
    summary = await _summary(client, admin, done["id"])
    assert sum(g["count"] for g in summary["groups"]) == 5


async def test_a_file_level_failure_has_errors_but_no_rows(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await _imported(client, admin, "tag_id,about\r\nX-1,One\r\n", settings)

    assert done["status"] == "failed"
    assert done["error"]["summary"].startswith("The file cannot be imported.")
    assert (done["error"]["error_count"], done["error"]["error_rows"]) == (2, 0)
    summary = await _summary(client, admin, done["id"])
    assert [(g["code"], g["column"], g["count"]) for g in summary["groups"]] == [
        ("missing_column", "case_status", 1),
        ("missing_column", "date_opened", 1),
    ]


async def test_an_import_without_errors_has_an_empty_summary(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await _imported(client, admin, ADD_HEADER + "OK-1,1,1/2/2024,Fine\r\n", settings)

    assert (done["status"], done["error"]) == ("completed", None)
    assert await _summary(client, admin, done["id"]) == {
        "error_count": 0,
        "error_rows": 0,
        "groups": [],
    }
    other = await admin_setup(sessionmaker, slug="other-app", email="other@example.org")
    assert_problem(
        await client.get(
            f"/api/apps/{other.slug}/imports/{done['id']}/errors/summary", headers=other.headers
        ),
        404,
        "import_not_found",
    )


async def test_errors_csv_starts_with_a_byte_order_mark_so_excel_keeps_accents(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await _imported(client, admin, ADD_HEADER + "Café-1,1,1/2/2024,Crème\r\n", settings)
    assert [e["value"] for e in await errors_of(client, admin, done["id"])] == ["Café-1"]

    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{done['id']}/errors.csv", headers=admin.headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(codecs.BOM_UTF8)
    text = response.content[len(codecs.BOM_UTF8) :].decode("utf-8")
    assert text.startswith("line,column,value,code,message\r\n")
    assert "\r\n2,tag_id,Café-1,invalid_tag_id," in text
