"""Real-world files through the whole pipeline: encodings, delimiters, line endings, quoting,
and the cap on kept errors."""

from __future__ import annotations

from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.factories import admin_setup
from tests.importing import cases_by_tag, errors_of, import_file, where


async def test_windows_1252_file_from_excel(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    # Plenty of plain rows first: the non-UTF-8 byte comes late, after rows were staged, so the
    # worker must start the file over as Windows-1252.
    plain = "".join(f"P-{n},1,1/2/2024,Plain case {n}\r\n" for n in range(30_000))
    text = "Tag ID,Case Status,Date Opened,About\r\n" + plain + "X-1,0,12/31/2023,Café – €5\r\n"
    done = await import_file(client, admin, text.encode("cp1252"))
    assert done["status"] == "completed", done
    assert done["result"]["created"] == 30_001
    assert (await cases_by_tag(sessionmaker))["X-1"].about == "Café – €5"


async def test_utf16_with_tabs(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    text = "tag_id\tstatus\topened\tdescription\r\nU-1\tactive\t2024-05-06\tÜber straße\r\n"
    done = await import_file(client, admin, text.encode("utf-16"))
    assert done["status"] == "completed", done
    assert (await cases_by_tag(sessionmaker))["U-1"].about == "Über straße"


async def test_bom_semicolons_cr_endings_and_quotes(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    text = (
        "\ufefftag_id;case_status;date_opened;about\r"
        '"Q-1";1;3/7/2024;"Leak; ""urgent"""\r'
        "\r"  # an empty line is skipped but still counted
        ";;;\r"
        "Q-2;0;3/8/2024;  Trimmed  \r"
    )
    done = await import_file(client, admin, text.encode())
    assert done["status"] == "completed", done
    cases = await cases_by_tag(sessionmaker)
    assert cases["Q-1"].about == 'Leak; "urgent"'
    assert cases["Q-2"].about == "Trimmed"


async def test_line_numbers_count_physical_lines_of_quoted_cells(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    text = (
        "tag_id,case_status,date_opened,about\n"
        'M-1,1,1/2/2024,"two\nlines"\n'  # lines 2-3
        "\n"  # line 4
        "M-2,7,1/2/2024,fine\n"  # line 5
        'M-3,1,1/2/2024,"tab\there"\n'  # line 6: no other control character
    )
    done = await import_file(client, admin, text.encode())
    assert where(await errors_of(client, admin, done["id"])) == [
        (5, "case_status", "invalid_status"),
        (6, "about", "invalid_about"),
    ]


async def test_line_breaks_in_a_description_are_kept_as_line_feeds(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    text = (
        "tag_id,case_status,date_opened,about\r\n"
        'L-1,1,1/13/2024,"First line\r\nsecond line"\r\n'
        'L-2,1,1/13/2024,"first line\rsecond  line"\r\n'  # the same, folded: a repeat
    )
    done = await import_file(client, admin, text.encode())
    assert where(await errors_of(client, admin, done["id"])) == [(4, "about", "duplicate_in_file")]
    done = await import_file(client, admin, text.encode().split(b"L-2")[0], name="one")
    assert done["status"] == "completed", done
    assert (await cases_by_tag(sessionmaker))["L-1"].about == "First line\nsecond line"


async def test_errors_are_capped_but_counted_exactly(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    rows = "".join(f"B-{n},9,1/2/2024,x{n}\r\n" for n in range(1_200))
    done = await import_file(client, admin, "tag_id,case_status,date_opened,about\r\n" + rows)
    assert done["status"] == "failed"
    assert done["error"]["error_count"] == 1_200
    assert done["error"]["summary"].startswith("1,200 rows have errors. Line 2, case_status:")
    kept = await errors_of(client, admin, done["id"])
    assert len(kept) == 500  # one page; the rest follow the cursor
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{done['id']}/errors.csv", headers=admin.headers
    )
    assert len(response.text.strip().splitlines()) == 1 + 1_000


async def test_a_nul_past_the_first_mebibyte_is_an_error_of_its_line(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    plain = "".join(f"P-{n},1,1/13/2024,Plain case number {n}\r\n" for n in range(40_000))
    text = "tag_id,case_status,date_opened,about\r\n" + plain + "N-1,1,1/13/2024,bro\x00ken\r\n"
    assert len(text) > 1024 * 1024
    done = await import_file(client, admin, text.encode())
    assert done["status"] == "failed", done
    [error] = await errors_of(client, admin, done["id"])
    assert (error["line"], error["column"], error["value"], error["code"]) == (
        40_002,
        "about",
        "bro␀ken",
        "invalid_character",
    )
    assert "NUL character" in error["message"]

    # Skipping bad rows, the others are applied, and nothing stored holds a NUL.
    done = await import_file(client, admin, text.encode(), name="skip", on_error="skip")
    assert (done["status"], done["result"]["created"], done["result"]["failed"]) == (
        "completed",
        40_000,
        1,
    )


async def test_a_nul_in_the_header_fails_the_file(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await import_file(
        client, admin, b"tag_id,case_status,date_opened,ab\x00out\r\nA,1,x,y\r\n"
    )
    assert done["status"] == "failed", done
    assert where(await errors_of(client, admin, done["id"])) == [(1, None, "invalid_character")]


async def test_short_rows_have_blank_cells_at_their_end(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    await import_file(
        client, admin, "tag_id,case_status,date_opened,about\r\nS-1,1,1/13/2024,Start\r\n"
    )
    # A spreadsheet that drops trailing delimiters: the blank about keeps the stored one.
    done = await import_file(
        client, admin, "tag_id,case_status,about\r\nS-1,0\r\n", type_="cases.modify", name="m"
    )
    assert (done["status"], done["result"]["updated"]) == ("completed", 1), done
    case = (await cases_by_tag(sessionmaker))["S-1"]
    assert (case.case_status, case.about) == (0, "Start")


async def test_a_sep_line_and_utf16_without_a_byte_order_mark(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession]
) -> None:
    admin = await admin_setup(sessionmaker)
    text = "sep=;\r\ntag_id;case_status;date_opened;about\r\nW-1;1;1/13/2024;Zürich, Straße\r\n"
    done = await import_file(client, admin, text.encode("utf-16-le"))
    assert done["status"] == "completed", done
    assert (done["file"]["encoding"], done["file"]["delimiter"]) == ("utf-16-le", ";")
    assert (await cases_by_tag(sessionmaker))["W-1"].about == "Zürich, Straße"
