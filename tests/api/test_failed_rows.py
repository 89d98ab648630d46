"""failed-rows.csv: a failed or partly applied import's failed rows, with their errors, in a CSV
that a spreadsheet opens safely and that uploads again once fixed (its ``error`` column is
ignored). Through the API and the real worker."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import AdminSetup, admin_setup, assert_problem
from tests.importing import ADD_HEADER, cases_by_tag, import_file, upload
from tests.worker_harness import import_after_worker

BAD_ROWS = (
    ADD_HEADER
    + "A-1,1,1/2/2024,One\r\n"
    + "A-2,9,1/2/2024,Two\r\n"  # line 3: case_status
    + "\r\n"
    + 'A-3,1,1/2/2024,"Three\r\nlines"\r\n'
    + "A-4,1,02/30/2024,=cmd()\r\n"  # line 7: date_opened; a formula-like about
    + "A-5,0,1/2/2024,Five\r\n"
)


async def _failed_rows(client: AsyncClient, admin: AdminSetup, import_id: str) -> str:
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{import_id}/failed-rows.csv", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "failed-rows.csv" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel shows the accents
    return response.content.decode("utf-8-sig")


def _fixed(text: str) -> bytes:
    """The downloaded rows as a person fixes them in a spreadsheet: bad cells replaced, the
    escaped formula kept as the text it is, the error column left in."""
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows[1:]:
        row[2] = {"9": "1"}.get(row[2], row[2])
        row[3] = {"02/30/2024": "02/28/2024"}.get(row[3], row[3])
        row[4] = row[4].removeprefix("'=")
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode()


async def test_a_skip_imports_failed_rows_fixed_and_uploaded_again_complete(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, BAD_ROWS, on_error="skip")
    assert done["status"] == "completed"
    assert (done["result"]["created"], done["result"]["failed"]) == (3, 2)

    text = await _failed_rows(client, admin, done["id"])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["error", "tag_id", "case_status", "date_opened", "about"]
    assert [row[1:] for row in rows[1:]] == [
        ["A-2", "9", "1/2/2024", "Two"],
        ["A-4", "1", "02/30/2024", "'=cmd()"],  # escaped, as errors.csv does
    ]
    assert rows[1][0].startswith("case_status: ")
    assert rows[2][0].startswith("date_opened: ")
    assert "real date" in rows[2][0]

    again = await import_file(client, admin, _fixed(text), name="fixed")
    assert again["status"] == "completed", again
    assert (again["result"]["created"], again["result"]["failed"]) == (2, 0)
    cases = await cases_by_tag(sessionmaker)
    assert sorted(cases) == ["A-1", "A-2", "A-3", "A-4", "A-5"]
    assert cases["A-4"].about == "cmd()"


async def test_a_failed_imports_rows_fixed_are_its_corrected_file(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, BAD_ROWS)
    assert done["status"] == "failed"
    assert await cases_by_tag(sessionmaker) == {}
    text = await _failed_rows(client, admin, done["id"])
    assert [row[1] for row in csv.reader(io.StringIO(text))][1:] == ["A-2", "A-4"]

    response = await client.put(
        f"/api/apps/{admin.slug}/imports/{done['id']}/file",
        files={"file": ("failed-rows.csv", _fixed(text), "text/csv")},
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    again = await import_after_worker(client, admin.slug, done["id"], admin.headers)
    assert again["status"] == "completed", again
    assert sorted(await cases_by_tag(sessionmaker)) == ["A-2", "A-4"]


async def test_a_file_not_read_as_rows_has_no_failed_rows(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, "tag_id,case_status,date_openned,about\r\nA,1,,x\r\n")
    assert done["status"] == "failed"
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{done['id']}/failed-rows.csv", headers=admin.headers
    )
    assert_problem(response, 409, "rows_not_read")
    draft = await upload(client, admin, None, name="draft")
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{draft['id']}/failed-rows.csv", headers=admin.headers
    )
    assert_problem(response, 409, "rows_not_read")


async def _failed_rows_json(
    client: AsyncClient, admin: AdminSetup, import_id: str, **params: str | int
) -> dict[str, Any]:
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{import_id}/failed-rows",
        params=params,
        headers=admin.headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_failed_rows_as_data_give_cells_unescaped_errors_and_the_header_columns(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    # The header spelled otherwise, and an extra column the mapping ignores.
    content = (
        "Tag ID,Notes,case_status,Date Opened,about\r\n"
        + "A-1,n,1,1/2/2024,One\r\n"
        + "A-2,n,9,1/2/2024,Two\r\n"  # line 3: case_status
        + "\r\n"
        + 'A-3,n,1,1/2/2024,"Three\r\nlines"\r\n'
        + "A-4,n,1,02/30/2024,=cmd()\r\n"  # line 7: date_opened; a formula-like about
        + "A-5,n,0,1/2/2024,Five\r\n"
    )
    done = await import_file(client, admin, content, columns=json.dumps({"Notes": None}))
    assert done["status"] == "failed", done

    page = await _failed_rows_json(client, admin, done["id"])
    assert page["header"] == ["Tag ID", "Notes", "case_status", "Date Opened", "about"]
    assert page["columns"] == ["tag_id", None, "case_status", "date_opened", "about"]
    assert [(row["line"], row["cells"]) for row in page["items"]] == [
        (3, ["A-2", "n", "9", "1/2/2024", "Two"]),
        (7, ["A-4", "n", "1", "02/30/2024", "=cmd()"]),  # JSON needs no formula escape
    ]
    assert [[(e["column"], e["code"]) for e in row["errors"]] for row in page["items"]] == [
        [("case_status", "invalid_status")],
        [("date_opened", "invalid_date")],
    ]
    assert page["next_cursor"] is None

    # A page at a time, in line order.
    first = await _failed_rows_json(client, admin, done["id"], limit=1)
    assert [row["line"] for row in first["items"]] == [3]
    second = await _failed_rows_json(
        client, admin, done["id"], limit=1, cursor=first["next_cursor"]
    )
    assert [row["line"] for row in second["items"]] == [7]
    assert second["next_cursor"] is None


async def test_failed_rows_as_data_need_rows_read(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, "tag_id,case_status,date_openned,about\r\nA,1,,x\r\n")
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{done['id']}/failed-rows", headers=admin.headers
    )
    assert_problem(response, 409, "rows_not_read")
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{done['id']}/failed-rows",
        params={"cursor": "nonsense"},
        headers=admin.headers,
    )
    assert_problem(response, 422, "invalid_cursor")
