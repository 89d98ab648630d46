"""Every CSV file LibreOffice saves from the typed workbook (``make.py``) is imported through the
API and the real worker, with the options a user would choose, and what is stored is compared
cell by cell with what was typed: it is exactly that, or the file is refused with a message that
names the real problem. None completes with a changed value."""

from __future__ import annotations

import csv
import io
import itertools
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.imports.encodings import ENCODINGS
from tests.corpus import make
from tests.corpus.make import CHANGES, CHARSET, ROWS, SEPARATOR, Charset, Export, Separator
from tests.factories import admin_setup
from tests.importing import cases_by_tag, count_cases, errors_of, import_file

Stored = dict[str, tuple[int, date, str]]

# How the service names the encoding of each character set's files. ISO-8859-1 files whose
# accented letters read the same in Windows-1252 are named by the first of the two.
READ_AS: dict[str, tuple[str, ...]] = {
    "utf-8": ("utf-8",),
    "utf-16": ("utf-16",),
    "cp1252": ("cp1252",),
    "mac-roman": ("mac-roman",),
    "ibm850": ("cp858",),  # LibreOffice's "850" is IBM 858: the euro sign at 0xD5
    "iso8859-15": ("iso8859-15",),
    "iso8859-1": ("cp1252",),
}
SINGLE_BYTE = {"cp1252", "mac-roman", "ibm850", "iso8859-15", "iso8859-1"}

# Date formats whose files are stored as they are in the default, month-first order.
AS_IS = {"us", "us-mmm", "de", "iso"}
TWO_DIGIT_YEARS = {"us-yy", "de-yy"}
DAY_FIRST = {"uk"}
assert set(make.STYLES) == AS_IS | TWO_DIGIT_YEARS | DAY_FIRST


def _params() -> list[Any]:
    params = []
    for export in make.EXPORTS:
        params.append(pytest.param(export, id=export.name.removesuffix(".csv")))
    return params


def typed(charset: Charset | None = None) -> Stored:
    """What was typed into the workbook, as a file in ``charset`` can hold it (LibreOffice
    writes "?" for a character the set lacks: ``test_what_each_character_set_cannot_hold``)."""
    return {
        row.tag_id: (
            row.case_status,
            row.opened,
            charset.carry(row.about) if charset else row.about,
        )
        for row in ROWS
    }


async def stored(sessionmaker: async_sessionmaker[AsyncSession]) -> Stored:
    return {
        tag: (case.case_status, case.date_opened, case.about)
        for tag, case in (await cases_by_tag(sessionmaker)).items()
    }


def assert_read_as(done: dict[str, Any], charset: Charset, separator: Separator) -> None:
    assert done["file"]["encoding"] in READ_AS[charset.key], done["file"]
    assert done["file"]["delimiter"] == separator.char, done["file"]
    warnings = [w["code"] for w in done["warnings"]]
    # Never dates_ambiguous: every file has a date that settles the order.
    assert warnings == (["encoding_guessed"] if charset.key in SINGLE_BYTE else []), warnings


def test_every_export_holds_what_its_options_ask_for(corpus: Path) -> None:
    """The filter tokens mean what make.py says: each file's bytes, decoded in its character
    set, are the header and the rows as typed, with the separator, the dates as shown, the
    quoting, and the byte-order mark (only UTF-16 has one)."""
    failures = []
    for export in make.EXPORTS:
        try:
            make.check_export(export, (corpus / export.name).read_bytes())
        except make.ExportFailed as failure:
            failures.append(str(failure))
    assert not failures, "\n\n".join(failures)


def test_what_each_character_set_cannot_hold() -> None:
    """A character the set lacks is written as "?" by LibreOffice itself (the test above checks
    the bytes): these files no longer hold what was typed, whatever reads them, and the tests
    expect the "?" to be stored."""
    lost = {
        charset.key: sorted({c for row in ROWS for c in row.about if charset.carry(c) != c})
        for charset in make.CHARSETS
    }
    assert lost == {
        "utf-8": [],
        "utf-16": [],
        "cp1252": [],
        "mac-roman": [],
        "ibm850": ["Œ", "œ"],
        "iso8859-15": [],
        "iso8859-1": ["Œ", "œ", "€"],
    }


@pytest.mark.parametrize("export", _params())
async def test_an_export_is_stored_as_typed_or_refused_for_its_real_problem(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    corpus: Path,
    export: Export,
) -> None:
    admin = await admin_setup(sessionmaker)
    content = (corpus / export.name).read_bytes()
    style = export.style
    done = await import_file(client, admin, content, filename=export.name)
    assert_read_as(done, export.charset, export.separator)

    if style.key in TWO_DIGIT_YEARS:
        # Every date names its two-digit year; nothing is stored.
        assert done["status"] == "failed", done
        errors = await errors_of(client, admin, done["id"])
        assert [(e["line"], e["column"], e["value"], e["code"]) for e in errors] == [
            (line, "date_opened", style.shown(row.opened), "invalid_date")
            for line, row in zip(make.physical_lines(), ROWS, strict=True)
        ]
        for error in errors:
            assert "has a two-digit year" in error["message"], error
            assert "four digits" in error["message"], error
        assert await count_cases(sessionmaker) == 0
        return

    if style.key in DAY_FIRST:
        # In the default order the file is refused as a whole, naming the order to choose.
        assert done["status"] == "failed", done
        [error] = await errors_of(client, admin, done["id"])
        first = ROWS[0]
        assert (error["line"], error["column"], error["value"], error["code"]) == (
            2,
            "date_opened",
            style.shown(first.opened),
            "date_order_unclear",
        )
        assert error["message"].startswith(
            f'5 dates can only be read day first (the first is "{style.shown(first.opened)}" '
            "on line 2), and 5 more could be read either way."
        ), error
        assert 'choose the date order "day first"' in error["message"], error
        assert await count_cases(sessionmaker) == 0
        # Choosing it, the user gets every date as typed.
        done = await import_file(
            client, admin, content, filename=export.name, name="day first", date_order="dmy"
        )
        assert_read_as(done, export.charset, export.separator)

    assert (done["status"], done["result"]["created"]) == ("completed", len(ROWS)), done
    assert await stored(sessionmaker) == typed(export.charset)


# ---------------------------------------------------------------------------------------------
# Exports changed by hand, as users do


def _export(charset: str, separator: str, style: str = "us") -> Export:
    return Export(CHARSET[charset], SEPARATOR[separator], make.STYLES[style])


def _read(corpus: Path, export: Export) -> str:
    return (corpus / export.name).read_bytes().decode(export.charset.codec)


def _encode(text: str, charset: Charset) -> bytes:
    return text.encode(charset.codec)


@pytest.mark.parametrize(
    ("charset", "separator"),
    [("utf-8", "comma"), ("cp1252", "semicolon"), ("utf-16", "tab")],
)
async def test_a_sep_line_written_by_hand_on_an_export(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    corpus: Path,
    charset: str,
    separator: str,
) -> None:
    admin = await admin_setup(sessionmaker)
    export = _export(charset, separator)
    text = f"sep={export.separator.char}\n" + _read(corpus, export)
    done = await import_file(client, admin, _encode(text, export.charset), filename=export.name)
    assert_read_as(done, export.charset, export.separator)
    assert done["status"] == "completed", done
    assert await stored(sessionmaker) == typed(export.charset)


def _blanks_at_end(row: tuple[object, ...]) -> int:
    return len(row) - len(tuple(itertools.dropwhile(lambda v: v is None, reversed(row))))


def _changes_typed() -> Stored:
    cases = typed()
    for tag, status, opened, about in CHANGES:
        was = cases[tag]
        cases[tag] = (
            was[0] if status is None else make.STATUS_CODES[str(status).lower()],
            was[1] if opened is None else opened,
            was[2] if about is None else about,
        )
    return cases


@pytest.mark.parametrize(
    ("charset", "separator", "drop_trailing"),
    [
        ("utf-8", "comma", False),
        ("utf-8", "comma", True),
        ("utf-8", "semicolon", True),
        ("utf-8", "tab", True),
        ("cp1252", "semicolon", True),
        ("utf-16", "tab", True),
    ],
)
async def test_a_modify_export_whose_rows_dropped_their_trailing_delimiters(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    corpus: Path,
    charset: str,
    separator: str,
    drop_trailing: bool,
) -> None:
    """Blank cells of a modify workbook keep the stored values, whether the file keeps the
    delimiters of its blank cells at the ends of rows (LibreOffice) or drops them."""
    admin = await admin_setup(sessionmaker)
    export = _export(charset, separator)
    added = await import_file(client, admin, (corpus / export.name).read_bytes(), name="add")
    assert added["status"] == "completed", added

    name = make.changes_export(export.charset, export.separator)
    text = (corpus / name).read_bytes().decode(export.charset.codec)
    if drop_trailing:
        sep = export.separator.char
        dropped = "".join(line.rstrip(sep) + "\n" for line in text.splitlines())
        # The blank cells at the ends of rows lost their delimiters, and only those.
        assert dropped.count(sep) == text.count(sep) - sum(map(_blanks_at_end, CHANGES))
        text = dropped
    done = await import_file(
        client, admin, _encode(text, export.charset), type_="cases.modify", name="changes"
    )
    assert_read_as(done, export.charset, export.separator)
    assert done["status"] == "completed", done
    after, before = _changes_typed(), typed()
    changed = sum(after[tag] != before[tag] for tag, *_ in CHANGES)
    assert (done["result"]["updated"], done["result"]["unchanged"]) == (
        changed,
        len(CHANGES) - changed,
    ), done
    assert await stored(sessionmaker) == after


# Where a NUL goes: in a description before the one that spans two lines, and in one after it.
NULS = {"NO-5": ("Blåbær", "Blå\x00bær"), "00417": ("42 68", "42\x00 68")}


@pytest.mark.parametrize("charset", ["utf-8", "cp1252", "utf-16"])
async def test_a_nul_injected_into_an_export_is_an_error_of_its_line(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    corpus: Path,
    charset: str,
) -> None:
    """Each NUL is an error of the line its record starts on, and none is ever stored."""
    admin = await admin_setup(sessionmaker)
    export = _export(charset, "comma")
    text = _read(corpus, export)
    for old, new in NULS.values():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    content = _encode(text, export.charset)
    rows = {row.tag_id: (line, row) for line, row in zip(make.physical_lines(), ROWS, strict=True)}

    done = await import_file(client, admin, content, filename=export.name)
    assert done["status"] == "failed", done
    errors = await errors_of(client, admin, done["id"])
    assert [(e["line"], e["column"], e["value"], e["code"]) for e in errors] == [
        (
            rows[tag][0],
            "about",
            rows[tag][1].about.replace(old, new.replace("\x00", "␀")),
            "invalid_character",
        )
        for tag, (old, new) in NULS.items()
    ]
    assert all("NUL character" in e["message"] for e in errors), errors
    assert await count_cases(sessionmaker) == 0

    # Skipping the bad rows, the others are stored as typed, and no NUL is.
    done = await import_file(
        client, admin, content, filename=export.name, name="skip", on_error="skip"
    )
    assert (done["status"], done["result"]["created"], done["result"]["failed"]) == (
        "completed",
        len(ROWS) - len(NULS),
        len(NULS),
    ), done
    expected = {tag: v for tag, v in typed(export.charset).items() if tag not in NULS}
    assert await stored(sessionmaker) == expected


@pytest.mark.parametrize("charset", ["utf-8", "cp1252"])
async def test_formulas_typed_as_text_are_stored_as_typed_and_escaped_in_the_errors_csv(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    corpus: Path,
    charset: str,
) -> None:
    """``=1+1`` and ``+33 …`` typed as text are stored as typed. Uploaded again, the file fails
    on every row; the errors CSV (UTF-8) gives each value as typed, accents included, and a
    leading ' on those a spreadsheet would run as formulas."""
    admin = await admin_setup(sessionmaker)
    export = _export(charset, "semicolon")
    content = (corpus / export.name).read_bytes()
    done = await import_file(client, admin, content, filename=export.name)
    assert done["status"] == "completed", done
    cases = await stored(sessionmaker)
    assert (cases["FX-9"][2], cases["00417"][2]) == ("=1+1", "+33 1 42 68 53 00 rappeler")

    again = await import_file(client, admin, content, filename=export.name, name="again")
    assert again["status"] == "failed", again
    response = await client.get(
        f"/api/apps/{admin.slug}/imports/{again['id']}/errors.csv", headers=admin.headers
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    abouts = {r["line"]: r["value"] for r in rows if r["column"] == "about"}
    lines = make.physical_lines()
    formula = ("=", "+", "-", "@")
    assert abouts == {
        str(line): ("'" + about if about.startswith(formula) else about)
        for line, about in zip(lines, (export.charset.carry(r.about) for r in ROWS), strict=True)
    }
    assert {r["code"] for r in rows} == {"already_exists", "about_taken"}


# The encoding a user picks in the upload's encoding field for each character set's files, in
# the spelling they know it by.
CHOSEN = {
    "cp1252": "windows-1252",
    "mac-roman": "macintosh",
    "ibm850": "ibm858",
    "iso8859-15": "iso8859-15",
    "iso8859-1": "latin-1",
}


def _one_row_params() -> list[Any]:
    params = []
    for key in CHOSEN:
        for row in (r for r in ROWS if not r.about.isascii()):  # the others are read as UTF-8
            params.append(pytest.param(key, row, id=f"{key}-{row.tag_id}"))
    return params


@pytest.mark.parametrize(("charset", "row"), _one_row_params())
async def test_each_row_alone_from_a_single_byte_export(
    client: AsyncClient,
    sessionmaker: async_sessionmaker[AsyncSession],
    corpus: Path,
    charset: str,
    row: make.Row,
) -> None:
    """A file of one row (the header and that row of an export, the others deleted) holds
    little evidence of its encoding: it is stored as typed, or refused with encoding_unclear,
    whose message shows the line as its encoding reads it; named in the encoding field, it is
    then stored as typed."""
    admin = await admin_setup(sessionmaker)
    export = _export(charset, "comma", "iso")  # ISO dates: one date alone is never ambiguous
    lines = _read(corpus, export).split("\n")
    start = dict(zip((r.tag_id for r in ROWS), make.physical_lines(), strict=True))[row.tag_id]
    text = "\n".join([lines[0], *lines[start - 1 : start + row.about.count("\n")]]) + "\n"
    content = _encode(text, export.charset)
    expected = {row.tag_id: typed(export.charset)[row.tag_id]}

    done = await import_file(client, admin, content, filename=export.name)
    if done["status"] == "failed":
        [error] = await errors_of(client, admin, done["id"])
        assert error["code"] == "encoding_unclear", error
        # The first line holding an accented letter, as the right encoding reads it.
        line, shown = next((n, t) for n, t in enumerate(text.split("\n"), 1) if not t.isascii())
        reading = f'{ENCODINGS[READ_AS[charset][0]]} reads it as "{shown}"'
        assert error["line"] == line, error
        assert f"Line {line}: " in error["message"], error
        assert reading in error["message"], error
        done = await import_file(
            client, admin, content, filename=export.name, name="named", encoding=CHOSEN[charset]
        )
        assert (done["status"], done["warnings"]) == ("completed", []), done
    assert done["status"] == "completed", done
    assert await stored(sessionmaker) == expected
