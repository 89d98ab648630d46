"""The one shape every problem found in an uploaded file takes (docs/format.md, "Errors")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RowError:
    """A problem at one place of a file.

    ``line`` is the physical line on which the record starts (the header is line 1 when it is
    the first line); ``line``, ``column`` and ``value`` are ``None`` where they do not apply.
    ``code`` is one of the stable codes listed in docs/format.md.
    """

    line: int | None
    column: str | None
    value: str | None
    code: str
    message: str


ErrorKind = tuple[tuple[str, str | None], str]
"""An error as it is counted: ((code, column), message), without its line and value."""


@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """A column an import type knows: its canonical name and the header spellings it accepts.

    ``aliases`` are given already normalized (see ``api.reading.header.normalize_header``);
    the canonical name is always accepted too.
    """

    name: str
    aliases: tuple[str, ...]
    required: bool
    rule: str


@dataclass(frozen=True, slots=True)
class ImportWarning:
    """Something an import did that the user should confirm; it does not stop the import.

    ``count`` is how many rows (or cells) it concerns.
    """

    code: str
    message: str
    count: int
