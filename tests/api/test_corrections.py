"""Corrections: cells of a failed import's file replaced by line and column, stored as a
corrected copy and run again. Through the API and the real worker."""

from __future__ import annotations

from datetime import date
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
from tests.importing import ADD_HEADER, cases_by_tag, errors_of, import_file, where
from tests.workbooks import rows, xlsx
from tests.worker_harness import import_after_worker

# Errors on lines 3 (case_status) and 7 (date_opened); a blank line and a cell over two lines
# before line 7, so that a copy written on other lines would shift it.
CONTENT = (
    ADD_HEADER
    + "A-1,1,1/2/2024,One\r\n"
    + "A-2,9,1/2/2024,Two\r\n"
    + "\r\n"
    + 'A-3,1,1/2/2024,"Three\r\nlines"\r\n'
    + "A-4,1,02/30/2024,Four\r\n"
)


async def _correct(
    client: AsyncClient, admin: AdminSetup, import_id: str, body: Any, headers: Any = None
) -> Response:
    return await client.post(
        f"/api/apps/{admin.slug}/imports/{import_id}/corrections",
        json=body,
        headers=headers or admin.headers,
    )


async def test_corrected_cells_of_a_csv_run_again_and_complete(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await import_file(client, admin, CONTENT)
    assert failed["status"] == "failed"
    assert where(await errors_of(client, admin, failed["id"])) == [
        (3, "case_status", "invalid_status"),
        (7, "date_opened", "invalid_date"),
    ]

    # One column as the errors name it, one as the header does (any spelling of it).
    response = await _correct(
        client, admin, failed["id"], {"3": {"case_status": "0"}, "7": {"Date Opened": "3/1/2024"}}
    )
    assert response.status_code == 200, response.text
    queued = response.json()
    assert queued["status"] == "queued"
    assert queued["file"]["filename"] == "cases-corrected.csv"

    done = await import_after_worker(client, admin.slug, failed["id"], admin.headers)
    assert done["status"] == "completed", done
    assert done["result"]["created"] == 4
    assert done["result"]["blank_rows"] == 1
    cases = await cases_by_tag(sessionmaker)
    assert cases["A-2"].case_status == 0
    assert cases["A-3"].about == "Three\nlines"
    assert cases["A-4"].date_opened == date(2024, 3, 1)
    audit = (await client.get(f"/api/apps/{admin.slug}/audit", headers=admin.headers)).json()
    assert ("import.corrected", failed["id"]) in [
        (e["action"], e["target"]) for e in audit["items"]
    ]


async def test_a_corrected_copy_keeps_the_lines_its_errors_name(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await import_file(client, admin, CONTENT)
    response = await _correct(client, admin, failed["id"], {"3": {"case_status": "0"}})
    assert response.status_code == 200, response.text
    done = await import_after_worker(client, admin.slug, failed["id"], admin.headers)
    assert done["status"] == "failed"
    assert where(await errors_of(client, admin, failed["id"])) == [
        (7, "date_opened", "invalid_date")
    ]


async def test_corrections_of_a_workbook_run_again_as_csv(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    header = ["tag_id", "case_status", "date_opened", "about"]
    book = xlsx(
        [
            (
                "Cases",
                rows(
                    [
                        header,
                        ["W-1", 1, date(2024, 1, 2), "One"],
                        [],
                        ["W-2", 1, "31/31/2024", "Two"],
                    ],
                    first_row=1,
                ),
            )
        ]
    )
    failed = await import_file(client, admin, book, filename="cases.xlsx")
    assert failed["status"] == "failed", failed
    assert where(await errors_of(client, admin, failed["id"])) == [
        (5, "date_opened", "invalid_date")
    ]
    response = await _correct(client, admin, failed["id"], {"5": {"date_opened": "2024-01-31"}})
    assert response.status_code == 200, response.text
    done = await import_after_worker(client, admin.slug, failed["id"], admin.headers)
    assert done["status"] == "completed", done
    assert done["file"]["format"] == "csv"
    assert done["file"]["filename"] == "cases-corrected.csv"
    cases = await cases_by_tag(sessionmaker)
    assert cases["W-1"].date_opened == date(2024, 1, 2)
    assert cases["W-2"].date_opened == date(2024, 1, 31)


async def test_corrections_are_refused_for_what_the_file_does_not_have(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await import_file(client, admin, CONTENT)
    url = failed["id"]

    header = await _correct(client, admin, url, {"1": {"tag_id": "x"}, "99": {"about": "x"}})
    problem = assert_problem(header, 422, "line_not_in_file")
    assert [e["loc"] for e in problem["errors"]] == [["body", "1"], ["body", "99"]]
    # A line inside a quoted cell starts no record.
    inside = await _correct(client, admin, url, {"6": {"about": "x"}})
    assert_problem(inside, 422, "line_not_in_file")
    column = await _correct(client, admin, url, {"3": {"status_code": "0"}})
    problem = assert_problem(column, 422, "column_not_in_file")
    assert problem["errors"][0]["loc"] == ["body", "3", "status_code"]
    assert (await _correct(client, admin, url, {"x": {"about": "y"}})).status_code == 422
    assert (await _correct(client, admin, url, {})).status_code == 422
    # Nothing was queued by the refusals.
    current = await client.get(f"/api/apps/{admin.slug}/imports/{url}", headers=admin.headers)
    assert current.json()["status"] == "failed"


async def test_only_an_admin_corrects_only_a_failed_import(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await import_file(client, admin, CONTENT)
    await make_user(sessionmaker, "viewer@example.org")
    await make_member(sessionmaker, "viewer@example.org", admin.slug, "viewer")
    viewer = bearer(await make_token(sessionmaker, "viewer@example.org", admin.slug))
    refused = await _correct(client, admin, failed["id"], {"3": {"case_status": "0"}}, viewer)
    assert refused.status_code == 403

    done = await import_file(client, admin, ADD_HEADER + "B-1,1,1/2/2024,B\r\n", name="ok")
    assert done["status"] == "completed"
    assert_problem(
        await _correct(client, admin, done["id"], {"2": {"about": "C"}}), 409, "import_not_failed"
    )
