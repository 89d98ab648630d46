"""The fast paths: a clean add is copied straight into ``cases``, a clean modify applied in
batches, each in one transaction; a file with any problem, found however late, leaves nothing
behind and gets the full report of the checked path."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.config import Settings
from tests.factories import admin_setup
from tests.importing import (
    ADD_HEADER,
    cases_by_tag,
    count_cases,
    errors_of,
    import_file,
    where,
)
from worker.pipeline.paths import batched
from worker.pipeline.pg_settings import pg_settings

ROWS = 30_000  # several chunks of the stored file, so the copy is well under way


def _good_rows(count: int) -> str:
    return "".join(f"T-{n},1,1/2/2024,Case number {n}\r\n" for n in range(count))


def _completed(done: dict[str, Any], rows: int, **counts: int) -> None:
    """The import completed with these counts (the others 0, and no row failed)."""
    assert done["status"] == "completed", done
    expected = {"rows": rows, "created": 0, "updated": 0, "unchanged": 0, "failed": 0, "deleted": 0}
    expected |= {"blank_rows": 0, "sha256": done["file"]["sha256"]}
    assert done["result"] == {**expected, **counts}


async def _fails_with(
    client: AsyncClient, admin: Any, content: str, errors: list[Any], **options: str
) -> dict[str, Any]:
    """The import of ``content`` fails with exactly these (line, column, code) errors."""
    done = await import_file(client, admin, content, **options)
    assert done["status"] == "failed", done
    assert where(await errors_of(client, admin, done["id"])) == errors
    return done


async def _with_a_stored_case(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> Any:
    """An admin whose app holds one case: OLD-1, "Leaking roof"."""
    admin = await admin_setup(sessionmaker)
    first = await import_file(client, admin, ADD_HEADER + "OLD-1,1,1/2/2024,Leaking roof\r\n")
    assert first["status"] == "completed", first
    return admin


async def test_a_clean_file_is_applied_with_every_row_in_file_order(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, ADD_HEADER + _good_rows(ROWS))
    _completed(done, rows=ROWS, created=ROWS)
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
    done = await _fails_with(client, admin, content, [(ROWS + 2, "tag_id", "duplicate_in_file")])
    assert done["result"]["failed"] == 1
    assert await count_cases(sessionmaker) == 0


async def test_a_bad_cell_after_many_good_rows_fails_the_file_and_applies_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    content = ADD_HEADER + _good_rows(ROWS) + "LATE-1,1,2/30/2024,A date that never was\r\n"
    await _fails_with(client, admin, content, [(ROWS + 2, "date_opened", "invalid_date")])
    assert await count_cases(sessionmaker) == 0


async def test_a_description_taken_by_a_stored_case_is_reported_at_its_line(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _with_a_stored_case(client, sessionmaker)
    content = ADD_HEADER + "NEW-1,1,1/2/2024,New case\r\nNEW-2,1,1/2/2024,  leaking   ROOF \r\n"
    await _fails_with(client, admin, content, [(3, "about", "about_taken")], name="Second")
    assert set(await cases_by_tag(sessionmaker)) == {"OLD-1"}


# validate_only: the keys go into a temporary table whose unique indexes refuse repeats, and are
# looked up among stored cases at the end; nothing else is written either way.


async def test_validate_only_of_a_clean_file_counts_what_it_would_create_on_the_fast_path(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = await admin_setup(sessionmaker)
    with caplog.at_level(logging.INFO, logger="worker.timing"):
        done = await import_file(client, admin, ADD_HEADER + _good_rows(ROWS), validate_only="true")
    _completed(done, rows=ROWS, created=ROWS)
    assert f"import {done['id']} (fast)" in caplog.text
    assert f"import {done['id']} (checked)" not in caplog.text
    assert await count_cases(sessionmaker) == 0


@pytest.mark.parametrize(
    ("last_row", "column"),
    [
        ("NEW-1,0,1/3/2024,  case NUMBER 7 ", "about"),  # another case's description
        ("t-3,0,1/3/2024,Yet another case", "tag_id"),  # another case's tag
    ],
)
async def test_validate_only_reports_a_repeat_on_the_last_line(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    last_row: str,
    column: str,
) -> None:
    admin = await admin_setup(sessionmaker)
    content = ADD_HEADER + _good_rows(ROWS) + last_row + "\r\n"
    await _fails_with(
        client, admin, content, [(ROWS + 2, column, "duplicate_in_file")], validate_only="true"
    )
    assert await count_cases(sessionmaker) == 0


async def test_validate_only_reports_keys_taken_by_stored_cases(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await _with_a_stored_case(client, sessionmaker)
    content = ADD_HEADER + "NEW-1,1,1/2/2024,leaking  ROOF\r\nold-1,1,1/2/2024,Another\r\n"
    await _fails_with(
        client,
        admin,
        content,
        [(2, "about", "about_taken"), (3, "tag_id", "already_exists")],
        name="Check",
        validate_only="true",
    )
    assert set(await cases_by_tag(sessionmaker)) == {"OLD-1"}


# Modify: batches applied while the next is parsed. Small batches here, so a file of a few
# thousand rows spans several of them.
MODIFY_HEADER = "tag_id,case_status,about\r\n"
CASES = 3_000


@pytest.fixture
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batched, "BATCH_ROWS", 500)


async def _seeded(client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]) -> Any:
    admin = await admin_setup(sessionmaker)
    done = await import_file(client, admin, ADD_HEADER + _good_rows(CASES), name="seed")
    assert done["status"] == "completed", done
    return admin


async def _modify_refused(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    admin: Any,
    rows: str,
    error: tuple[int, str, str],
) -> None:
    """The modify fails with exactly this (line, column, code), and every case keeps status 1."""
    done = await import_file(client, admin, MODIFY_HEADER + rows, type_="cases.modify", name="m")
    assert done["status"] == "failed", done
    assert where(await errors_of(client, admin, done["id"])) == [error]
    assert {c.case_status for c in (await cases_by_tag(sessionmaker)).values()} == {1}


async def test_a_clean_modify_in_many_batches_counts_changed_and_unchanged_rows(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    small_batches: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin = await _seeded(client, sessionmaker)
    # Even rows close their case; odd rows repeat what is stored.
    rows = "".join(f"T-{n},{0 if n % 2 == 0 else 1},Case number {n}\r\n" for n in range(CASES))
    with caplog.at_level(logging.INFO, logger="worker.timing"):
        done = await import_file(
            client, admin, MODIFY_HEADER + rows, type_="cases.modify", name="m"
        )
    _completed(done, rows=CASES, updated=CASES // 2, unchanged=CASES // 2)
    # Applied by the batches themselves, not handed to the checked path.
    assert f"import {done['id']} (checked)" not in caplog.text
    cases = await cases_by_tag(sessionmaker)
    assert (cases["T-0"].case_status, cases["T-1"].case_status) == (0, 1)
    assert str(cases[f"T-{CASES - 2}"].updated_by_import) == done["id"]
    assert str(cases[f"T-{CASES - 1}"].updated_by_import) != done["id"]


async def test_a_modify_whose_last_tag_is_unknown_changes_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], small_batches: None
) -> None:
    admin = await _seeded(client, sessionmaker)
    rows = "".join(f"T-{n},0,\r\n" for n in range(CASES)) + "NOPE-1,0,\r\n"
    await _modify_refused(client, sessionmaker, admin, rows, (CASES + 2, "tag_id", "not_found"))


# A repeated tag is found wherever its rows fall and whatever they do to the case: the second
# row of a case that the first one changed, or left as it was.
@pytest.mark.parametrize(
    ("first", "again", "line_of_again"),
    [
        (0, 1, CASES + 2),  # changed, then changed back in a later batch
        (0, 0, 11),  # two rows of one batch, each changing the stored case
        (0, 0, CASES + 2),  # changed, then given the same value again
        (1, 0, CASES + 2),  # left as it was, then changed in a later batch
        (1, 1, CASES + 2),  # left as it was, twice
    ],
)
async def test_a_modify_repeating_a_tag_changes_nothing(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    small_batches: None,
    first: int,
    again: int,
    line_of_again: int,
) -> None:
    admin = await _seeded(client, sessionmaker)
    rows = [f"T-{n},{first if n == 7 else 0},\r\n" for n in range(CASES)]
    rows.insert(line_of_again - 2, f"t-7,{again},\r\n")
    await _modify_refused(
        client, sessionmaker, admin, "".join(rows), (line_of_again, "tag_id", "duplicate_in_file")
    )


async def test_a_modify_taking_a_kept_description_in_a_later_batch_changes_nothing(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], small_batches: None
) -> None:
    admin = await _seeded(client, sessionmaker)
    rows = "".join(f"T-{n},0,\r\n" for n in range(1, CASES)) + "T-0,,CASE NUMBER  2999\r\n"
    await _modify_refused(client, sessionmaker, admin, rows, (CASES + 1, "about", "about_taken"))


async def test_batch_plans_hold_inside_the_block_and_are_undone_after_it(
    settings: Settings,
) -> None:
    # The checks after the batches join whole tables: a nested loop forced on them would be
    # quadratic in a file's repeated tags. So the batch settings must not outlive the block.
    names = ("enable_hashjoin", "enable_mergejoin", "plan_cache_mode", "jit")
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_mergejoin = off")  # someone's earlier choice
            before = [await conn.fetchval("SELECT current_setting($1)", n) for n in names]
            async with pg_settings(conn, batched.BATCH_PLANS):
                inside = [await conn.fetchval("SELECT current_setting($1)", n) for n in names]
            after = [await conn.fetchval("SELECT current_setting($1)", n) for n in names]
    finally:
        await conn.close()
    assert inside == ["off", "off", "force_custom_plan", "off"]
    assert after == before
    assert before[:2] == ["on", "off"]
