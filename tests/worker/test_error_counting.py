"""Errors of rows past the ones kept in full are counted cell by cell, from remembered verdicts:
the counts, the groups and each group's first line and message are exactly those of validating
every bad row in full."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date
from typing import Annotated, ClassVar

import pytest
from pydantic import PlainValidator, TypeAdapter, ValidationError
from pydantic_core import PydanticCustomError

from api.import_types import cell_verdicts
from api.import_types.cases import AddCases
from api.import_types.cell_verdicts import CellVerdicts
from api.import_types.dates import DateOrder
from api.import_types.registry import all_types
from api.import_types.row_validator import RowValidator
from worker.pipeline.errors import ErrorCollector

TODAY = date(2026, 11, 25)
ROWS = 3000

# Per column: values that repeat (good, blank, bad in each way the rules tell apart), and a
# maker of values unique to their row (good and bad).
REPEATED = {
    "tag_id": ["A-1", " A-2 ", "", "   ", "A_1", "a_1", "B" * 65, "1.23456789012346E+19", "é-1"],
    "case_status": ["0", "1", "closed", " ACTIVE ", "", " ", "2", "open", "OPEN", "{x}"],
    "date_opened": [
        "03/07/2024",
        "3/7/2024",
        "2024-03-07",
        "07.03.2024",
        "7-Mar-2024",
        "Mar 7, 2024",
        "11/26/2026",  # tomorrow: the latest date allowed
        "11/27/2026",
        "",
        " ",
        "02/30/2024",
        "13/13/2024",
        "28/11/2011",  # day-first only
        "1/2/24",
        "45000",
        "2024-02-31",
        "01/01/1899",
        "soon",
    ],
    "about": ["ok", "", "  ", "x" * 501, "bell\x07here", "line\r\nbreak", "{braces} 100%"],
}
UNIQUE = {
    "tag_id": lambda i: f"T-{i}" if i % 3 else f"bad_{i}",
    "case_status": lambda i: f"s{i}",
    "date_opened": lambda i: f"{1 + i % 12}/{1 + i % 31}/{1890 + i % 140}",
    "about": lambda i: f"About {i}" if i % 4 else f"control\x01{i}",
}


def _varied_rows(names: Sequence[str], seed: int) -> list[tuple[str, ...]]:
    """Rows of repeated and unique values, good and bad, in every column."""
    rng = random.Random(seed)
    rows = []
    for i in range(ROWS):
        rows.append(
            tuple(
                UNIQUE[name](i) if rng.random() < 0.3 else rng.choice(REPEATED[name])
                for name in names
            )
        )
    return rows


VALIDATORS = {
    f"{import_type.key}-{order}": (import_type, order)
    for import_type in all_types()
    for order in DateOrder
}


def _fresh_validator(key: str) -> RowValidator:
    """Each test's own, with no verdicts remembered yet."""
    import_type, order = VALIDATORS[key]
    return import_type.row_validator(TODAY, order)


@pytest.fixture(params=[cell_verdicts.REMEMBERED, 16], ids=["remembered", "forgetting"])
def remembered(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    """As configured, and so few that the verdicts are forgotten many times over."""
    monkeypatch.setattr(cell_verdicts, "REMEMBERED", request.param)
    return int(request.param)


def _counted_and_full(
    validator: RowValidator, rows: list[tuple[str, ...]], keep: int
) -> tuple[ErrorCollector, ErrorCollector]:
    """The bad rows through the counting collector, and as before: every one in full."""
    counted, full = ErrorCollector(keep), ErrorCollector(keep)
    for line, cells in enumerate(rows, start=2):
        try:
            validator.check(cells)
        except ValidationError:
            counted.add_invalid(line, cells, validator)
            errors = validator(line, cells)[1]
            assert errors is not None
            full.add_row(errors)
    return counted, full


@pytest.mark.parametrize("key", VALIDATORS)
def test_each_row_counts_the_errors_full_validation_gives(key: str, remembered: int) -> None:
    validator = _fresh_validator(key)
    for cells in _varied_rows(validator.names, seed=1) * 2:  # twice: from remembered verdicts
        errors = validator(7, cells)[1] or []
        assert validator.error_kinds(cells) == [((e.code, e.column), e.message) for e in errors]


@pytest.mark.parametrize("keep", [0, 5, 1000])
@pytest.mark.parametrize("key", VALIDATORS)
def test_counts_and_groups_past_the_kept_errors_are_exact(
    key: str, keep: int, remembered: int
) -> None:
    validator = _fresh_validator(key)
    counted, full = _counted_and_full(validator, _varied_rows(validator.names, seed=2), keep)

    assert counted.bad_rows == full.bad_rows > 1000
    assert counted.tally.total == full.tally.total
    assert counted.tally.groups() == full.tally.groups()  # counts, first lines and messages
    assert {g.column for g in counted.tally.groups()} == set(validator.names)
    assert counted.kept == full.kept


def test_the_case_types_count_cell_by_cell() -> None:
    for import_type in all_types():
        assert import_type.cells_independent
        assert isinstance(import_type.row_validator(TODAY).error_kinds, CellVerdicts)


def test_a_repeated_bad_value_is_validated_once() -> None:
    seen: list[str] = []

    def status(text: str) -> int:
        seen.append(text)
        if text not in ("0", "1"):
            raise PydanticCustomError("invalid_status", f'"{text}" is not 0 or 1')
        return int(text)

    check = TypeAdapter(Annotated[int, PlainValidator(status)]).validate_python
    verdicts = CellVerdicts(["case_status"], [check])
    for _ in range(1000):
        assert verdicts(["2"]) == [(("invalid_status", "case_status"), '"2" is not 0 or 1')]
        assert verdicts(["1"]) == []
    assert seen == ["2", "1"]


class _Undeclared(AddCases):
    """The add type's rows, from a type that does not say its cells are independent."""

    cells_independent: ClassVar[bool] = False


@pytest.mark.parametrize("keep", [0, 5])
def test_a_type_not_declaring_independent_cells_has_its_bad_rows_validated_in_full(
    keep: int,
) -> None:
    validator = _Undeclared().row_validator(TODAY)
    assert not isinstance(validator.error_kinds, CellVerdicts)

    counted, full = _counted_and_full(validator, _varied_rows(validator.names, seed=3), keep)
    assert (counted.bad_rows, counted.tally.total) == (full.bad_rows, full.tally.total)
    assert counted.tally.groups() == full.tally.groups()
    assert counted.kept == full.kept
