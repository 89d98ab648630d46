"""map_header: header cells -> column positions, or every header problem at once."""

from __future__ import annotations

import pytest

from api.import_types.row_error import ColumnSpec, RowError
from api.reading.header import HeaderMap, map_header, normalize_header

# The columns of cases.add as docs/format.md lists them.
COLUMNS = (
    ColumnSpec("tag_id", ("case_id",), True, "1-64 letters, digits and hyphens"),
    ColumnSpec("case_status", ("status",), True, "0, 1, closed or active"),
    ColumnSpec("date_opened", ("opened",), True, "mm/dd/yyyy"),
    ColumnSpec("about", ("description",), True, "1-500 characters"),
)
OPTIONAL_ABOUT = (*COLUMNS[:3], ColumnSpec("about", ("description",), False, ""))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tag_id", "tag_id"),
        ("  Tag ID ", "tag_id"),
        ("Tag  ID", "tag_id"),
        ("case-id", "case_id"),
        ("Date - Opened", "date_opened"),
        ("\ufeffCase Status", "case_status"),
        ("ABOUT", "about"),
        ("   ", ""),
    ],
)
def test_normalize_header(text: str, expected: str) -> None:
    assert normalize_header(text) == expected


def test_canonical_names_map_to_their_positions() -> None:
    header, errors = map_header(["tag_id", "case_status", "date_opened", "about"], 1, COLUMNS)
    assert errors == []
    assert header == HeaderMap(
        positions={"tag_id": 0, "case_status": 1, "date_opened": 2, "about": 3}, width=4
    )


@pytest.mark.parametrize(
    "cells",
    [
        ["Case ID", "status", "Date Opened", "description"],
        ["case-id", "Case Status", "opened", "About"],
        ["Tag ID", " STATUS ", "date-opened", "Description"],
    ],
)
def test_aliases_and_spellings(cells: list[str]) -> None:
    header, errors = map_header(cells, 1, COLUMNS)
    assert errors == []
    assert header is not None
    assert header.positions == {"tag_id": 0, "case_status": 1, "date_opened": 2, "about": 3}


def test_columns_in_any_order() -> None:
    header, _ = map_header(["about", "Date Opened", "tag_id", "status"], 1, COLUMNS)
    assert header is not None
    assert header.positions == {"about": 0, "date_opened": 1, "tag_id": 2, "case_status": 3}


def test_bom_in_the_first_header_cell() -> None:
    header, errors = map_header(["\ufefftag_id", "case_status", "date_opened", "about"], 1, COLUMNS)
    assert errors == []
    assert header is not None
    assert header.positions["tag_id"] == 0

    _, errors = map_header(["\ufeffTag Idd", "case_status", "date_opened", "about"], 1, COLUMNS)
    assert errors[0].column == "Tag Idd"
    assert errors[0].message == 'unknown column "Tag Idd"; did you mean "tag_id"?'


def test_unknown_column_suggests_the_nearest_name() -> None:
    header, errors = map_header(["tag_id", "case_status", "date_openned", "about"], 3, COLUMNS)
    assert header is None
    assert errors[0] == RowError(
        line=3,
        column="date_openned",
        value="date_openned",
        code="unknown_column",
        message='unknown column "date_openned"; did you mean "date_opened"?',
    )
    assert [(e.code, e.column) for e in errors] == [
        ("unknown_column", "date_openned"),
        ("missing_column", "date_opened"),
    ]


def test_unknown_column_suggests_the_canonical_name_of_a_near_alias() -> None:
    _, errors = map_header(["Case Idd", "status", "opened", "about"], 1, COLUMNS)
    assert errors[0].message == 'unknown column "Case Idd"; did you mean "tag_id"?'
    assert errors[0].column == "Case Idd"


def test_unknown_column_with_nothing_near_lists_the_columns() -> None:
    _, errors = map_header(
        ["tag_id", "case_status", "date_opened", "about", "Priority"], 1, COLUMNS
    )
    assert errors == [
        RowError(
            1,
            "Priority",
            "Priority",
            "unknown_column",
            'unknown column "Priority"; the columns of this import are "tag_id", '
            '"case_status", "date_opened" and "about"',
        )
    ]


def test_duplicate_column_names_both_spellings() -> None:
    header, errors = map_header(
        ["tag_id", "case_status", "Case ID", "date_opened", "about"], 1, COLUMNS
    )
    assert header is None
    assert len(errors) == 1
    error = errors[0]
    assert (error.line, error.column, error.value, error.code) == (
        1,
        "tag_id",
        "Case ID",
        "duplicate_column",
    )
    assert '"tag_id"' in error.message
    assert '"Case ID"' in error.message


def test_missing_columns_in_spec_order() -> None:
    header, errors = map_header(["about", "tag_id"], 1, COLUMNS)
    assert header is None
    assert [(e.line, e.column, e.value, e.code) for e in errors] == [
        (1, "case_status", None, "missing_column"),
        (1, "date_opened", None, "missing_column"),
    ]
    assert '"case_status"' in errors[0].message
    assert '"status"' in errors[0].message  # the accepted alias is offered


def test_optional_column_may_be_absent() -> None:
    header, errors = map_header(["tag_id", "status", "opened"], 1, OPTIONAL_ABOUT)
    assert errors == []
    assert header == HeaderMap({"tag_id": 0, "case_status": 1, "date_opened": 2}, 3)


def test_blank_header_cell() -> None:
    header, errors = map_header(["tag_id", "  ", "case_status", "date_opened", "about"], 1, COLUMNS)
    assert header is None
    assert len(errors) == 1
    assert (errors[0].column, errors[0].value, errors[0].code) == (None, "", "unknown_column")
    assert "header cell 2" in errors[0].message
    assert "blank" in errors[0].message


def test_trailing_blank_header_cells_are_ignored() -> None:
    cells = ["tag_id", "case_status", "date_opened", "about", "", " ", "\ufeff"]
    header, errors = map_header(cells, 1, COLUMNS)
    assert errors == []
    assert header is not None
    assert header.width == 4


def test_errors_follow_header_order_then_missing() -> None:
    cells = ["Tagid", "tag_id", "", "Case ID", "zzz", "about"]
    _, errors = map_header(cells, 2, COLUMNS)
    assert [(e.code, e.column) for e in errors] == [
        ("unknown_column", "Tagid"),
        ("unknown_column", None),
        ("duplicate_column", "tag_id"),
        ("unknown_column", "zzz"),
        ("missing_column", "case_status"),
        ("missing_column", "date_opened"),
    ]
    assert all(e.line == 2 for e in errors)


def test_a_column_headed_error_is_ignored() -> None:
    cells = ["error", "tag_id", "case_status", "date_opened", "about"]
    header, errors = map_header(cells, 1, COLUMNS)
    assert errors == []
    assert header is not None
    assert header.positions == {"tag_id": 1, "case_status": 2, "date_opened": 3, "about": 4}


def test_a_mapping_names_columns_and_ignores_others_before_the_usual_spellings() -> None:
    cells = ["Case Number", "status", "Opened", "Notes", "about", "description"]
    mapping = {"case number": "tag_id", "Notes": None, "Description": None}
    header, errors = map_header(cells, 1, COLUMNS, mapping)
    assert errors == []
    assert header is not None
    assert header.positions == {"tag_id": 0, "case_status": 1, "date_opened": 2, "about": 4}
    # Without it, the same header fails.
    assert map_header(cells, 1, COLUMNS)[0] is None
