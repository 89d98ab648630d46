"""The cell rules of docs/format.md, one by one, through the row models the worker uses."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from api.cases.keys import about_key
from api.import_types.cases import AddCases, ModifyCases
from api.import_types.dates import DateOrder

TODAY = date(2026, 11, 25)
ADD = AddCases()
MODIFY = ModifyCases()


def add_row(**cells: str) -> tuple[Any, list[tuple[str | None, str]]]:
    values = {"tag_id": "A-1", "case_status": "1", "date_opened": "03/07/2024", "about": "x"}
    values.update(cells)
    row, errors = ADD.validate(7, values, TODAY)
    return _named(row), [(e.column, e.code) for e in errors or []]


def _named(row: tuple[Any, ...] | None) -> dict[str, Any] | None:
    """A validated row (values in column order) by column name."""
    return (
        None
        if row is None
        else dict(zip(("tag_id", "case_status", "date_opened", "about"), row, strict=True))
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03/07/2024", date(2024, 3, 7)),
        ("3/7/2024", date(2024, 3, 7)),
        ("2024-03-07", date(2024, 3, 7)),
        ("01/01/1900", date(1900, 1, 1)),
        ("11/26/2026", date(2026, 11, 26)),  # today + 1 day
        ("02/29/2024", date(2024, 2, 29)),
        ("07.03.2024", date(2024, 3, 7)),  # dotted dates are day first everywhere
        ("7.3.2024", date(2024, 3, 7)),
        ("7-Mar-2024", date(2024, 3, 7)),
        ("07-mar-2024", date(2024, 3, 7)),
        ("Mar 7, 2024", date(2024, 3, 7)),
        ("March 7 2024", date(2024, 3, 7)),
        ("7 March 2024", date(2024, 3, 7)),
        ("7 Sept 2024", date(2024, 9, 7)),
    ],
)
def test_accepted_dates(text: str, expected: date) -> None:
    row, errors = add_row(date_opened=text)
    assert errors == []
    assert row is not None
    assert row["date_opened"] == expected


@pytest.mark.parametrize(
    "text",
    [
        "02/30/2024",
        "02/29/2023",
        "12/31/1899",
        "11/27/2026",
        "3/7/24",
        "2024/03/07",
        "03-07-2024",
        "tomorrow",
        "03/07/2024 10:00",
        "١٢/٠١/٢٠٢٤",
    ],
)
def test_refused_dates(text: str) -> None:
    _, errors = add_row(date_opened=text)
    assert errors == [("date_opened", "invalid_date")]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07/03/2024", date(2024, 3, 7)),
        ("7/3/2024", date(2024, 3, 7)),
        ("25/12/2024", date(2024, 12, 25)),
        ("2024-03-07", date(2024, 3, 7)),  # ISO, dotted and month names read the same
        ("07.03.2024", date(2024, 3, 7)),
        ("Mar 7, 2024", date(2024, 3, 7)),
    ],
)
def test_day_first_order_reads_slash_dates_day_first(text: str, expected: date) -> None:
    values = {"tag_id": "A-1", "case_status": "1", "date_opened": text, "about": "x"}
    row, errors = ADD.validate(7, values, TODAY, DateOrder.DMY)
    assert errors is None
    assert row is not None
    assert row[2] == expected


@pytest.mark.parametrize(
    ("text", "order", "says"),
    [
        ("45292", DateOrder.MDY, "date serial number (it would be 01/01/2024)"),
        ("45292.5", DateOrder.MDY, "date serial number"),
        ("3/7/24", DateOrder.MDY, "two-digit year"),
        ("07.03.24", DateOrder.MDY, "two-digit year"),
        ("7-Mrz-2024", DateOrder.MDY, '"Mrz" is not an English month name'),
        ("12/25/2024", DateOrder.DMY, "is not a real date in dd/mm/yyyy"),
        ("yesterday", DateOrder.DMY, "write it as dd/mm/yyyy, for example 07/03/2024"),
    ],
)
def test_date_messages_name_the_real_problem(text: str, order: DateOrder, says: str) -> None:
    values = {"tag_id": "A-1", "case_status": "1", "date_opened": text, "about": "x"}
    _, errors = ADD.validate(7, values, TODAY, order)
    assert errors is not None
    assert [(e.column, e.code) for e in errors] == [("date_opened", "invalid_date")]
    assert says in errors[0].message


def test_a_day_first_date_is_no_month_first_date() -> None:
    # Alone it is a bad cell; in a file, the file's tally turns it into date_order_unclear.
    _, errors = ADD.validate(
        7,
        {"tag_id": "A", "case_status": "1", "date_opened": "25/12/2024", "about": "x"},
        TODAY,
    )
    assert errors is not None
    assert [(e.code, e.value) for e in errors] == [("invalid_date", "25/12/2024")]
    assert "is not a real date in mm/dd/yyyy" in errors[0].message


def test_a_date_already_seen_is_still_checked_against_each_file_s_latest_day() -> None:
    # Dates are parsed once and remembered; the range check is not: an import running on a later
    # day accepts what an earlier one refused, and the other way round.
    row = {"tag_id": "A", "case_status": "1", "date_opened": "11/26/2026", "about": "x"}
    good, errors = ADD.validate(7, row, TODAY)  # tomorrow: allowed (time zones)
    assert errors is None
    assert good is not None
    assert good[2] == date(2026, 11, 26)
    _, errors = ADD.validate(8, row, date(2026, 11, 20))
    assert errors is not None
    assert [(e.line, e.code) for e in errors] == [(8, "invalid_date")]
    assert "is out of range" in errors[0].message
    assert "11/26/2026" in errors[0].message


@pytest.mark.parametrize(("text", "status"), [("0", 0), ("1", 1), ("Closed", 0), ("ACTIVE", 1)])
def test_status_numbers_and_words(text: str, status: int) -> None:
    row, errors = add_row(case_status=text)
    assert errors == []
    assert row is not None
    assert row["case_status"] == status


@pytest.mark.parametrize("tag", ["A", "case-1", "X" * 64, "0123"])
def test_valid_tags(tag: str) -> None:
    assert add_row(tag_id=tag)[1] == []


@pytest.mark.parametrize("tag", ["X" * 65, "a_b", "a b", "café", "a/b"])
def test_invalid_tags(tag: str) -> None:
    assert add_row(tag_id=tag)[1] == [("tag_id", "invalid_tag_id")]


@pytest.mark.parametrize("tag", ["1.23456789012346E+19", "4.5e+11", "1,5E+12"])
def test_a_tag_a_spreadsheet_made_a_number_is_named_as_such(tag: str) -> None:
    _, errors = ADD.validate(
        7, {"tag_id": tag, "case_status": "1", "date_opened": "1/2/2024", "about": "x"}, TODAY
    )
    assert errors is not None
    assert [e.code for e in errors] == ["invalid_tag_id"]
    assert "Format the tag_id column as text" in errors[0].message


def test_about_rules() -> None:
    assert add_row(about="é" * 500)[1] == []
    assert add_row(about="x" * 501)[1] == [("about", "invalid_about")]
    assert add_row(about="tab\there")[1] == [("about", "invalid_about")]
    # Line breaks (Alt+Enter in a spreadsheet cell) are kept, as line feeds.
    for broken in ("line\nbreak", "line\r\nbreak", "line\rbreak"):
        row, errors = add_row(about=broken)
        assert errors == []
        assert row is not None
        assert row["about"] == "line\nbreak"


@pytest.mark.parametrize("about", ["no\xa0break space", "zero\u200bwidth", "sixty\u3000four"])
def test_about_may_hold_unusual_characters_that_are_not_control_characters(about: str) -> None:
    assert add_row(about=about)[1] == []


def test_a_control_character_in_about_is_named_with_its_position() -> None:
    _, errors = ADD.validate(
        7,
        {"tag_id": "A", "case_status": "1", "date_opened": "03/07/2024", "about": "bell\x07here"},
        TODAY,
    )
    assert errors is not None
    assert errors[0].code == "invalid_about"
    assert "U+0007" in errors[0].message
    assert "position 5" in errors[0].message


@pytest.mark.parametrize(
    ("about", "key"),
    [
        ("Water Leak", "water leak"),
        ("  Water   leak ", "water leak"),
        ("Water\tleak", "water leak"),
        ("Water\xa0leak", "water leak"),  # a no-break space is white space too
        ("Water\u3000\u2003leak", "water leak"),
        ("Water leak ", "water leak"),
        ("ÉCOLE", "école"),
    ],
)
def test_descriptions_compare_ignoring_case_and_runs_of_white_space(about: str, key: str) -> None:
    assert about_key(about) == key


def test_cells_are_trimmed_and_errors_show_the_trimmed_value() -> None:
    row, errors = add_row(tag_id="  A-1 ", about=" x  ")
    assert errors == []
    assert row is not None
    assert (row["tag_id"], row["about"]) == ("A-1", "x")
    _, bad = ADD.validate(
        4, {"tag_id": "A", "case_status": " 7 ", "date_opened": "1/2/2024", "about": "x"}, TODAY
    )
    assert bad is not None
    assert [(e.line, e.column, e.value, e.code) for e in bad] == [
        (4, "case_status", "7", "invalid_status")
    ]


def test_every_cell_error_of_a_row_is_reported_with_its_line() -> None:
    row, errors = ADD.validate(
        9, {"tag_id": "", "case_status": "x", "date_opened": "", "about": ""}, TODAY
    )
    assert row is None
    assert errors is not None
    assert [(e.line, e.column, e.code) for e in errors] == [
        (9, "tag_id", "required"),
        (9, "case_status", "invalid_status"),
        (9, "date_opened", "required"),
        (9, "about", "required"),
    ]


def test_modify_blank_cells_mean_keep() -> None:
    row, errors = MODIFY.validate(3, {"tag_id": "A-1", "case_status": " ", "about": ""}, TODAY)
    assert errors is None
    assert row == ("A-1", None, None, None)
    _, errors = MODIFY.validate(3, {"tag_id": ""}, TODAY)
    assert errors is not None
    assert errors[0].code == "required"
