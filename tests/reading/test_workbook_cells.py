"""A workbook's cells as text, and the choice of its sheet (no database needed)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest

from api.reading.workbooks.calamine import cell_text
from api.reading.workbooks.sheets import SheetEntry, SheetNotFound, pick_sheet


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("  as typed ", "  as typed "),
        (7.0, "7"),
        (1.5, "1.5"),
        (0.1 + 0.2, "0.3"),  # 15 significant digits, as a spreadsheet shows it
        (-0.0, "0"),
        (12345678901234567890.0, "1.23456789012346e+19"),
        (42, "42"),
        (True, "TRUE"),
        (False, "FALSE"),
        (date(2024, 3, 7), "2024-03-07"),
        (datetime(2024, 3, 7), "2024-03-07"),  # a date-time at midnight is a date
        (datetime(2024, 3, 7, 13, 5), "2024-03-07 13:05:00"),
        (time(13, 5), "13:05:00"),
        (timedelta(hours=30), "1 day, 6:00:00"),
        ("", ""),
    ],
)
def test_cell_text(value: object, text: str) -> None:
    assert cell_text(value) == text


def _sheets(*names: str) -> list[SheetEntry]:
    """Sheets by name; a name ending in "~" is hidden, one ending in "^" a chart sheet."""
    return [
        SheetEntry(
            name.rstrip("~^"), visible=not name.endswith("~"), worksheet=not name.endswith("^")
        )
        for name in names
    ]


def test_the_first_visible_worksheet_by_default() -> None:
    assert pick_sheet(_sheets("Lists~", "Chart^", "Cases", "Other"), None) == "Cases"


def test_a_named_sheet_exactly_then_ignoring_case_and_spaces() -> None:
    sheets = _sheets("Cases", "cases ", "Data~")
    assert pick_sheet(sheets, "cases ") == "cases "
    assert pick_sheet(sheets, "CASES") == "Cases"
    assert pick_sheet(sheets, "data") == "Data"  # a hidden sheet may be named


def test_a_missing_sheet_lists_the_sheets() -> None:
    with pytest.raises(SheetNotFound, match=r'no sheet "Q4"\. Its sheets: "A", "B" \(hidden\)\.'):
        pick_sheet(_sheets("A", "B~"), "Q4")
    with pytest.raises(SheetNotFound, match=r'no visible sheet; .* "B" \(hidden\)\.'):
        pick_sheet(_sheets("B~"), None)
