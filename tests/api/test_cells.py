"""The cell rules of docs/format.md, one by one, through the row models the worker uses."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from api.cases.keys import about_key
from api.import_types.cases import AddCases, ModifyCases

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


def test_day_first_dates_get_a_hint() -> None:
    _, errors = ADD.validate(
        7,
        {"tag_id": "A", "case_status": "1", "date_opened": "25/12/2024", "about": "x"},
        TODAY,
    )
    assert errors is not None
    assert "looks like dd/mm/yyyy" in errors[0].message
    assert "12/25/2024" in errors[0].message


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


def test_about_rules() -> None:
    assert add_row(about="é" * 500)[1] == []
    assert add_row(about="x" * 501)[1] == [("about", "invalid_about")]
    assert add_row(about="line\nbreak")[1] == [("about", "invalid_about")]
    assert add_row(about="tab\there")[1] == [("about", "invalid_about")]


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
