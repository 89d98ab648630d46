"""A clean add is copied straight into ``cases`` in one transaction (the fast path); a file
with any problem, found however late, leaves nothing behind and gets the full report of the
checked path."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup
from tests.importing import (
    ADD_HEADER,
    cases_by_tag,
    count_cases,
    errors_of,
    import_file,
    where,
)

ROWS = 30_000  # several chunks of the stored file, so the copy is well under way


def _good_rows(count: int) -> str:
    return "".join(f"T-{n},1,1/2/2024,Case number {n}\r\n" for n in range(count))


async def test_a_clean_file_is_applied_with_every_row_in_file_order(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, ADD_HEADER + _good_rows(ROWS))
    assert done["status"] == "completed", done
    assert done["result"] == {
        "rows": ROWS,
        "created": ROWS,
        "updated": 0,
        "unchanged": 0,
        "failed": 0,
    }
    assert done["progress"]["rows_processed"] == ROWS
    cases = await cases_by_tag(sessionmaker)
    assert len(cases) == ROWS
    first, last = cases["T-0"], cases[f"T-{ROWS - 1}"]
    assert first.id < last.id  # ids follow the file
    assert str(first.created_by_import) == str(last.updated_by_import) == done["id"]


async def test_a_repeat_on_the_last_line_fails_the_file_and_applies_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = ADD_HEADER + _good_rows(ROWS) + "t-0,0,1/3/2024,Something else\r\n"
    done = await import_file(client, admin, content)
    assert done["status"] == "failed", done
    last_line = ROWS + 2
    assert where(await errors_of(client, admin, done["id"])) == [
        (last_line, "tag_id", "duplicate_in_file")
    ]
    assert done["result"]["failed"] == 1
    assert await count_cases(sessionmaker) == 0


async def test_a_bad_cell_after_many_good_rows_fails_the_file_and_applies_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = ADD_HEADER + _good_rows(ROWS) + "LATE-1,1,2/30/2024,A date that never was\r\n"
    done = await import_file(client, admin, content)
    assert done["status"] == "failed", done
    assert where(await errors_of(client, admin, done["id"])) == [
        (ROWS + 2, "date_opened", "invalid_date")
    ]
    assert await count_cases(sessionmaker) == 0


async def test_a_description_taken_by_a_stored_case_is_reported_at_its_line(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    first = await import_file(client, admin, ADD_HEADER + "OLD-1,1,1/2/2024,Leaking roof\r\n")
    assert first["status"] == "completed", first
    content = ADD_HEADER + "NEW-1,1,1/2/2024,New case\r\nNEW-2,1,1/2/2024,  leaking   ROOF \r\n"
    done = await import_file(client, admin, content, name="Second")
    assert done["status"] == "failed", done
    assert where(await errors_of(client, admin, done["id"])) == [(3, "about", "about_taken")]
    assert set(await cases_by_tag(sessionmaker)) == {"OLD-1"}
