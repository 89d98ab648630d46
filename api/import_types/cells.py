"""The rules for each cell of a case file (docs/format.md, "Columns"), as pydantic validators.

Each parser raises ``PydanticCustomError`` whose type is the row error's code, so a row model's
``ValidationError`` maps one-to-one onto ``RowError``s. Cells arrive as read: each parser trims
its own (surrounding white space is ignored). The parsers are hand-written: ``strptime`` alone
would cost a large part of a row's whole budget (docs/performance.md).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

from pydantic import ValidationInfo
from pydantic_core import PydanticCustomError

from api.import_types.dates import DateOrder, parse_date

TAG_ID_RE = re.compile(r"[A-Za-z0-9-]{1,64}")
# What a spreadsheet makes of a long number typed in a general cell: 1.23456789012346E+19.
SCIENTIFIC_RE = re.compile(r"[0-9](?:[.,][0-9]+)?E\+?[0-9]+", re.IGNORECASE)
# Any C0/C1 control character or DEL but the line break (Alt+Enter in a spreadsheet cell).
CONTROL_RE = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")
ABOUT_MAX = 500
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
        if SCIENTIFIC_RE.fullmatch(value):
            raise _error(
                "invalid_tag_id",
                f'tag_id "{value}" is a number as a spreadsheet shows a long one: the tag was '
                "lost. Format the tag_id column as text, type the tags again and save the file.",
            )
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


def about(value: str) -> str:
    value = value.strip()
    if "\r" in value:  # a line break is stored as \n, however the file wrote it
        value = value.replace("\r\n", "\n").replace("\r", "\n")
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
            f"{bad.start() + 1}; use printable text (and line breaks) only.",
        )
    return value


def date_opened(value: str, info: ValidationInfo) -> date:
    """In the import's date order, up to its latest date (``RowValidator`` passes both in the
    validation context, fixed once per import); else month first, up to tomorrow."""
    context: dict[str, Any] | None = info.context
    if context:
        return parse_date(value, context["order"], context["latest"])
    return parse_date(value, DateOrder.MDY, date.today() + timedelta(days=1))
