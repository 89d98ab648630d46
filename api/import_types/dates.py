"""Dates in a file: the forms people and spreadsheets write, read in the import's date order,
and the tally of slash dates that decides whether that order is safe for the whole file
(docs/format.md, "Date order").

A slash date whose two numbers are both 12 or less (``02/01/2024``) reads as two different
days in the two orders. Read row by row, a day-first file of such dates would be stored with
every month and day swapped, so the file as a whole decides: in the default month-first order,
one date that can only be day-first (``28/11/2011``) fails the file (``date_order_unclear``),
and a file whose slash dates could all be read either way gets the warning ``dates_ambiguous``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import Enum, StrEnum

from pydantic_core import PydanticCustomError

from api.import_types.row_error import ImportWarning, RowError

EARLIEST = date(1900, 1, 1)


class DateOrder(StrEnum):
    """How a slash date's first two numbers are read."""

    MDY = "mdy"
    DMY = "dmy"

    @property
    def pattern(self) -> str:
        return "mm/dd/yyyy" if self is DateOrder.MDY else "dd/mm/yyyy"

    @property
    def example(self) -> str:
        return "03/07/2024" if self is DateOrder.MDY else "07/03/2024"


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_SLASH = re.compile(r"(\d{1,2})/(\d{1,2})/(\d+)", re.ASCII)
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})", re.ASCII)
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d+)", re.ASCII)
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})[- ]([A-Za-z]+)\.?[- ](\d+)", re.ASCII)
_MONTH_NAME_DAY = re.compile(r"([A-Za-z]+)\.? (\d{1,2}),? (\d+)", re.ASCII)
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?", re.ASCII)
# Day 0 of a spreadsheet's date serial numbers (1 is 1900-01-01 but for the leap-year bug).
_SERIAL_EPOCH = date(1899, 12, 30)


def _error(value: str, why: str) -> PydanticCustomError:
    # No context: the message is final, so braces in a cell are never read as placeholders.
    return PydanticCustomError("invalid_date", f'date_opened "{value}" {why}')


def _parts(value: str, order: DateOrder) -> tuple[str, str, str]:
    """(year, month, day) as written, or ``invalid_date`` naming the form that was expected."""
    if found := _SLASH.fullmatch(value):
        first, second, year = found.groups()
        return (year, first, second) if order is DateOrder.MDY else (year, second, first)
    if found := _ISO.fullmatch(value):
        year, month, day = found.groups()
        return year, month, day
    if found := _DOTTED.fullmatch(value):
        day, month, year = found.groups()
        return year, month, day
    named = _DAY_MONTH_NAME.fullmatch(value) or _MONTH_NAME_DAY.fullmatch(value)
    if named:
        groups = named.groups()
        day, name, year = groups if groups[0].isdigit() else (groups[1], groups[0], groups[2])
        month = _MONTHS.get(name.lower())
        if month is None:
            raise _error(value, f'names no month: "{name}" is not an English month name.')
        return year, str(month), day
    if _SERIAL.fullmatch(value):
        serial = _SERIAL_EPOCH + timedelta(days=int(value.split(".")[0]))
        raise _error(
            value,
            "looks like a spreadsheet's date serial number (it would be "
            f"{serial:%m/%d/%Y}): format the column as a date before saving the file.",
        )
    raise _error(value, f"is not a date: write it as {order.pattern}, for example {order.example}.")


def _parse(value: str, order: DateOrder) -> date:
    year, month, day = _parts(value, order)
    if len(year) == 2:
        raise _error(
            value,
            "has a two-digit year: write the year with four digits (in a spreadsheet, format "
            "the column as a date with a four-digit year, such as MM/DD/YYYY, before saving).",
        )
    if len(year) != 4:
        raise _error(value, f"is not a date: write it as {order.pattern}.")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        why = f"is not a real date in {order.pattern}: check the month and the day."
        raise _error(value, why) from None


# A file has far fewer distinct dates than rows: each cell text is parsed once per order, and a
# million rows cost a dictionary lookup each. Only good dates are kept, up to a bound, and never
# evicted: a file with more keeps the first ones.
_KNOWN: dict[DateOrder, dict[str, date]] = {order: {} for order in DateOrder}
_KNOWN_MAX = 40_000


def parse_date(value: str, order: DateOrder, latest: date) -> date:
    """The date a cell means in ``order``, from ``EARLIEST`` to ``latest``; else
    ``invalid_date`` (or ``required`` for a blank cell) with a message a person can act on."""
    known = _KNOWN[order]
    opened = known.get(value)
    if opened is None:
        text = value.strip()
        if not text:
            raise PydanticCustomError("required", "date_opened is required, but the cell is blank.")
        opened = _parse(text, order)
        if len(known) < _KNOWN_MAX:
            known[value] = opened
    if not EARLIEST <= opened <= latest:
        raise _error(
            value.strip(),
            f"is out of range: dates go from {EARLIEST:%m/%d/%Y} to {latest:%m/%d/%Y}.",
        )
    return opened


class SlashKind(Enum):
    """What a cell's first two numbers allow, if it is a slash date."""

    NOT_SLASH = "not a slash date"
    EITHER = "either order"  # both numbers 12 or less, and different
    MONTH_FIRST = "month first only"
    DAY_FIRST = "day first only"
    SAME = "the same in both orders"


_KINDS: dict[str, SlashKind] = {}


def slash_kind(value: str) -> SlashKind:
    kind = _KINDS.get(value)
    if kind is None:
        found = _SLASH.fullmatch(value.strip())
        if found is None:
            kind = SlashKind.NOT_SLASH
        else:
            first, second = int(found.group(1)), int(found.group(2))
            if first > 12 >= second:
                kind = SlashKind.DAY_FIRST
            elif second > 12 >= first:
                kind = SlashKind.MONTH_FIRST
            elif first <= 12 and second <= 12 and first != second:
                kind = SlashKind.EITHER
            else:
                kind = SlashKind.SAME
        if len(_KINDS) < _KNOWN_MAX:
            _KINDS[value] = kind
    return kind


# Distinct cell texts a tally keeps apart; past this many (no real file has them), texts are
# classified one by one as they come.
_TALLY_TEXTS_MAX = 100_000


@dataclass
class DateTally:
    """The slash dates of a whole file, counted as its rows are read.

    The reader counts each cell text in ``counts`` (and its first line in ``first_lines``)
    itself, two dictionary operations a row; the texts are classified once, at the end.
    """

    counts: dict[str, int] = field(default_factory=dict)
    first_lines: dict[str, int] = field(default_factory=dict)
    either: int = 0
    month_first: int = 0
    day_first: int = 0
    first_day_first: tuple[int, str] | None = None  # its line and text
    _summed: bool = False

    def add(self, line: int, value: str) -> None:
        """One cell; the reader inlines this for speed."""
        seen = self.counts.get(value)
        if seen is not None:
            self.counts[value] = seen + 1
        elif len(self.counts) < _TALLY_TEXTS_MAX:
            self.counts[value] = 1
            self.first_lines[value] = line
        else:
            self._count(value, 1, line)

    def _count(self, value: str, count: int, line: int) -> None:
        kind = slash_kind(value)
        if kind is SlashKind.EITHER:
            self.either += count
        elif kind is SlashKind.MONTH_FIRST:
            self.month_first += count
        elif kind is SlashKind.DAY_FIRST:
            self.day_first += count
            if self.first_day_first is None or line < self.first_day_first[0]:
                self.first_day_first = (line, value.strip())

    def _sum(self) -> None:
        if not self._summed:
            self._summed = True
            for value, count in self.counts.items():
                self._count(value, count, self.first_lines[value])

    def unclear(self, order: DateOrder) -> RowError | None:
        """``date_order_unclear``: in month-first order, dates that can only be day-first."""
        self._sum()
        if order is not DateOrder.MDY or self.first_day_first is None:
            return None
        line, value = self.first_day_first
        dates = "date" if self.day_first == 1 else "dates"
        message = (
            f'{self.day_first:,} {dates} can only be read day first (the first is "{value}" on '
            f"line {line}), and {self.either:,} more could be read either way. Nothing was "
            'imported: choose the date order "day first" (dd/mm/yyyy) and upload the file again.'
        )
        return RowError(line, "date_opened", value, "date_order_unclear", message)

    def warning(self, order: DateOrder) -> ImportWarning | None:
        """``dates_ambiguous``: month-first was assumed for dates that nothing else confirms."""
        self._sum()
        if order is not DateOrder.MDY or not self.either or self.month_first or self.day_first:
            return None
        dates = "date was" if self.either == 1 else "dates were"
        message = (
            f"{self.either:,} {dates} read month first (mm/dd/yyyy), as none of the file's "
            "dates says otherwise; if the file writes the day first, import it again with the "
            'date order "day first".'
        )
        return ImportWarning("dates_ambiguous", message, self.either)
