"""The rules for each cell of a case file (docs/format.md, "Columns"), as pydantic validators.

Each parser raises ``PydanticCustomError`` whose type is the row error's code, so a row model's
``ValidationError`` maps one-to-one onto ``RowError``s. Cells arrive as read: each parser trims
its own (surrounding white space is ignored). The parsers are hand-written: ``strptime`` alone
would cost a large part of a row's whole budget (docs/performance.md).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError

TAG_ID_RE = re.compile(r"[A-Za-z0-9-]{1,64}")
# Any C0/C1 control character or DEL; tabs and line breaks inside `about` are not printable text.
CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
ABOUT_MAX = 500
EARLIEST = date(1900, 1, 1)
STATUS_WORDS = {"0": 0, "1": 1, "closed": 0, "active": 1}


def _error(code: str, message: str) -> PydanticCustomError:
    # No context: the message is final, so braces in a cell are never read as placeholders.
    return PydanticCustomError(code, message)


def _required(column: str) -> PydanticCustomError:
    return _error("required", f"{column} is required, but the cell is blank.")


def tag_id(value: str) -> str:
    value = value.strip()
    if not value:
        raise _required("tag_id")
    if not TAG_ID_RE.fullmatch(value):
        raise _error(
            "invalid_tag_id",
            f'tag_id "{value}" is not valid: use 1 to 64 letters (A-Z), digits and hyphens.',
        )
    return value


def case_status(value: str) -> int:
    value = value.strip()
    if not value:
        raise _required("case_status")
    status = STATUS_WORDS.get(value.lower())
    if status is None:
        raise _error(
            "invalid_status",
            f'case_status "{value}" is not valid: use 0 or closed, 1 or active.',
        )
    return status


def _bad_date(value: str, why: str) -> PydanticCustomError:
    return _error("invalid_date", f'date_opened "{value}" {why}')


def _date_parts(value: str) -> tuple[int, int, int] | None:
    """(year, month, day) from mm/dd/yyyy (one-digit month or day allowed) or yyyy-mm-dd."""
    if "/" in value:
        parts = value.split("/")
        if len(parts) != 3:
            return None
        month, day, year = parts
    elif "-" in value:
        parts = value.split("-")
        if len(parts) != 3:
            return None
        year, month, day = parts
    else:
        return None
    if not (len(year) == 4 and 1 <= len(month) <= 2 and 1 <= len(day) <= 2):
        return None
    if not (year.isascii() and month.isascii() and day.isascii()):
        return None
    if not (year.isdigit() and month.isdigit() and day.isdigit()):
        return None
    return int(year), int(month), int(day)


def _parse_date(value: str) -> date:
    value = value.strip()
    if not value:
        raise _required("date_opened")
    parts = _date_parts(value)
    if parts is None:
        raise _bad_date(value, "is not a date: write it as mm/dd/yyyy, for example 03/07/2024.")
    year, month, day = parts
    if "/" in value and month > 12 and day <= 12:
        raise _bad_date(
            value,
            f"looks like dd/mm/yyyy: write dates as mm/dd/yyyy ({day:02d}/{month:02d}/{year}).",
        )
    try:
        return date(year, month, day)
    except ValueError:
        raise _bad_date(value, "is not a real date: check the month and the day.") from None


# A file has far fewer distinct dates than rows (a century is 36,525 days): each cell text is
# parsed once, and a million rows cost a dictionary lookup each. Only good dates are kept, up to
# a bound (a few MiB at most), and never evicted: a file with more keeps the first ones.
_KNOWN_DATES: dict[str, date] = {}
_KNOWN_DATES_MAX = 40_000


def date_opened(value: str, latest: date) -> date:
    opened = _KNOWN_DATES.get(value)
    if opened is None:
        opened = _parse_date(value)
        if len(_KNOWN_DATES) < _KNOWN_DATES_MAX:
            _KNOWN_DATES[value] = opened
    if not EARLIEST <= opened <= latest:
        raise _bad_date(
            value.strip(),
            f"is out of range: dates go from 01/01/1900 to {latest:%m/%d/%Y}.",
        )
    return opened


def about(value: str) -> str:
    value = value.strip()
    if not value:
        raise _required("about")
    if len(value) > ABOUT_MAX:
        raise _error(
            "invalid_about",
            f"about is {len(value)} characters long; at most {ABOUT_MAX} are allowed.",
        )
    # str.isprintable() answers in C, far sooner than the search, which then runs only to find
    # where a control character is.
    bad = None if value.isprintable() else CONTROL_RE.search(value)
    if bad:
        raise _error(
            "invalid_about",
            f"about contains a control character (U+{ord(bad.group()):04X}) at position "
            f"{bad.start() + 1}; use printable text only.",
        )
    return value


def latest_date(info: ValidationInfo) -> date:
    """The latest date allowed: ``latest`` from the validation context (``RowValidator``
    always passes one, fixed once per import), else today + 1 day (time zones)."""
    context: dict[str, date] | None = info.context
    if context:
        return context["latest"]
    return date.today() + timedelta(days=1)
