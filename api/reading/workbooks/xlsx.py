"""An .xlsx (or .xlsm) sheet streamed row by row, so that memory stays flat in its rows.

The libraries on PyPI hold every cell or every shared string as a Python object
(docs/performance.md, "Choices measured"), so this reads the parts itself with the standard
library's expat: the workbook's sheet list, the styles (which cells are dates), the shared
strings (kept as one UTF-8 buffer and an array of offsets), then the sheet's XML, a buffer at a
time, into ``(row number, cells)`` records.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from array import array
from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree
from xml.parsers import expat

from api.reading.records import NotTextError, Record
from api.reading.workbooks.sheets import (
    DAMAGED,
    MAX_COLUMNS,
    SAVE_AGAIN,
    SheetEntry,
    damaged_after,
    general_number,
    moment_text,
    opened,
    pick_sheet,
)

_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_READ_BYTES = 1 << 16
# Built-in number formats that show a date or a time (ECMA-376 Part 1, 18.8.30).
_DATE_FORMAT_IDS = frozenset({14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47})
# A format code shows a date when it has d, m, y, h or s outside quotes, brackets and escapes.
_LITERALS = re.compile(r'"[^"]*"|\[[^\]]*\]|\\.|_.|\*.')
_DATE_CODE = re.compile(r"[dmyhs]", re.IGNORECASE)
_EPOCHS = {False: datetime(1899, 12, 30), True: datetime(1904, 1, 1)}
_LEAP_BUG_SERIAL = 60  # Excel counts a 29 February 1900: serials below it are a day later
_COLUMN_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_NUMBERS_KEPT = 50_000

Handlers = tuple[
    Callable[[str, dict[str, str]], None], Callable[[str], None], Callable[[str], None]
]


def _xml(archive: zipfile.ZipFile, name: str) -> ElementTree.Element | None:
    if name not in archive.NameToInfo:
        return None
    # The workbook's small parts; expat expands no external entities.
    return ElementTree.fromstring(archive.read(name))  # noqa: S314


def sheet_entries(archive: zipfile.ZipFile) -> tuple[list[tuple[SheetEntry, str]], bool]:
    """The workbook's sheets in order with the part each is in, and whether its dates count
    from 1904."""
    workbook = _xml(archive, "xl/workbook.xml")
    rels = _xml(archive, "xl/_rels/workbook.xml.rels")
    if workbook is None or rels is None:
        raise NotTextError(f"the workbook lists no sheets; {SAVE_AGAIN}")
    targets = {
        rel.get("Id"): (rel.get("Target", ""), rel.get("Type", ""))
        for rel in rels.iter(f"{_PACKAGE_REL}Relationship")
    }
    entries = []
    for sheet in workbook.iter(f"{_MAIN}sheet"):
        target, kind = targets.get(sheet.get(f"{_REL}id"), ("", ""))
        path = target.lstrip("/") if target.startswith("/") else posixpath.join("xl", target)
        entry = SheetEntry(
            name=sheet.get("name", ""),
            visible=sheet.get("state", "visible") == "visible",
            worksheet=kind.endswith("/worksheet"),
        )
        entries.append((entry, posixpath.normpath(path)))
    properties = workbook.find(f"{_MAIN}workbookPr")
    date1904 = properties is not None and properties.get("date1904") in ("1", "true")
    return entries, date1904


def date_styles(archive: zipfile.ZipFile) -> frozenset[str]:
    """The cell styles (a cell's ``s``, as written) whose number format shows a date or a
    time."""
    styles = _xml(archive, "xl/styles.xml")
    cell_formats = None if styles is None else styles.find(f"{_MAIN}cellXfs")
    if styles is None or cell_formats is None:
        return frozenset()
    dated = set(_DATE_FORMAT_IDS)
    for fmt in styles.iter(f"{_MAIN}numFmt"):
        if _DATE_CODE.search(_LITERALS.sub("", fmt.get("formatCode", ""))):
            dated.add(int(fmt.get("numFmtId", "-1")))
    return frozenset(
        str(index)
        for index, xf in enumerate(cell_formats.iter(f"{_MAIN}xf"))
        if int(xf.get("numFmtId", "0")) in dated
    )


def _parser(handlers: Handlers) -> expat.XMLParserType:
    """An expat parser calling the handlers with tags as written: Excel writes the main
    namespace as the default one, and the handlers strip a prefix when another writer uses one
    (no namespace processing: it costs a third of the parse)."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler, parser.CharacterDataHandler = handlers
    return parser


def _fed(archive: zipfile.ZipFile, name: str, handlers: Handlers) -> Generator[None, None, None]:
    """Feed the part to the handlers a buffer at a time, pausing after each buffer."""
    parser = _parser(handlers)
    with archive.open(name) as part:
        while data := part.read(_READ_BYTES):
            parser.Parse(data, False)
            yield
    parser.Parse(b"", True)


class SharedStrings:
    """The workbook's shared strings, compact: their UTF-8 in one buffer, and where each
    starts in another (some 28 bytes a string rather than a Python object's 60 and more)."""

    def __init__(self) -> None:
        self._text = bytearray()
        self._starts = array("Q", [0])

    def __len__(self) -> int:
        return len(self._starts) - 1

    def __getitem__(self, index: int) -> str:
        starts = self._starts
        return self._text[starts[index] : starts[index + 1]].decode()

    def read(self, archive: zipfile.ZipFile) -> None:
        name = "xl/sharedStrings.xml"
        if name not in archive.NameToInfo:
            return
        parts: list[str] = []
        depth = {"t": 0, "rPh": 0}  # inside a text; inside a phonetic run, which is not shown

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag in depth:
                depth[tag] += 1
            elif tag == "si":
                parts.clear()
            elif ":" in tag:
                start(tag.rpartition(":")[2], attrs)

        def end(tag: str) -> None:
            if tag in depth:
                depth[tag] -= 1
            elif tag == "si":
                self._text += "".join(parts).encode()
                self._starts.append(len(self._text))
            elif ":" in tag:
                end(tag.rpartition(":")[2])

        def text(data: str) -> None:
            if depth["t"] and not depth["rPh"]:
                parts.append(data)

        for _ in _fed(archive, name, (start, end, text)):
            pass


class _Cells:
    """The expat handlers that turn a sheet's XML into records, one list of cells a row."""

    __slots__ = (
        "cells",
        "column",
        "columns",
        "dates",
        "epoch",
        "kind",
        "last_row",
        "numbers",
        "records",
        "row",
        "strings",
        "style",
        "taking",
        "text",
    )

    def __init__(self, strings: SharedStrings, dates: frozenset[str], date1904: bool) -> None:
        self.strings = strings
        self.dates = dates
        self.epoch = _EPOCHS[date1904]
        # A number cell's text by its style's kind and its stored digits: dates and statuses
        # repeat, so most cells are one lookup (bounded: a column of distinct numbers is not).
        self.numbers: dict[tuple[bool, str], str] = {}
        self.columns: dict[str, int] = {}
        self.records: list[Record] = []
        self.last_row = 0
        self.row = 0
        self.cells: list[str] = []
        self.kind = "n"
        self.style = ""
        self.column = 0
        self.text = ""
        self.taking = False

    def _column(self, ref: str) -> int:
        letters = ref.rstrip("0123456789")
        column = self.columns.get(letters)
        if column is None:
            column = 0
            for letter in letters:
                column = column * 26 + ord(letter) - 64
            if not 1 <= column <= MAX_COLUMNS:  # a damaged sheet: its gap is no row's cells
                raise ValueError(f"a cell at {ref}, past the last column")
            self.columns[letters] = column = column - 1
        return column

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "c":
            self.kind = attrs.get("t", "n")
            self.style = attrs.get("s", "")
            ref = attrs.get("r")
            self.column = self._column(ref) if ref else len(self.cells)
            self.text = ""
        elif tag == "v" or tag == "t":  # a value, or the text of an inline string
            self.taking = True
        elif tag == "row":
            number = attrs.get("r")
            self.row = int(number) if number else self.row + 1
            self.cells = []
        elif tag == "dimension":  # ref="A1:D1000001" names the sheet's last row
            last = attrs.get("ref", "").rpartition(":")[2].lstrip(_COLUMN_LETTERS)
            self.last_row = int(last) if last.isdigit() else 0
        elif ":" in tag:
            self.start(tag.rpartition(":")[2], attrs)

    def end(self, tag: str) -> None:
        if tag == "c":
            cells = self.cells
            if self.column > len(cells):
                cells.extend([""] * (self.column - len(cells)))
            cells.append(self._value())
        elif tag == "v" or tag == "t":
            self.taking = False
        elif tag == "row":
            joined = "".join(self.cells)
            if joined and not joined.isspace():
                self.records.append((self.row, self.cells))
        elif ":" in tag:
            self.end(tag.rpartition(":")[2])

    def chars(self, data: str) -> None:
        if self.taking:
            self.text += data

    def _value(self) -> str:
        """The cell as a CSV export would write it (docs/format.md, "Cell values")."""
        text, kind = self.text, self.kind
        if kind == "n":
            key = (self.style in self.dates, text)
            shown = self.numbers.get(key)
            if shown is None:
                shown = self._number(*key)
                if len(self.numbers) < _NUMBERS_KEPT:
                    self.numbers[key] = shown
            return shown
        if kind == "s":
            return self.strings[int(text)] if text else ""
        if kind == "b":
            return "TRUE" if text.strip() == "1" else "FALSE"
        if kind == "e":
            return ""  # an error such as #N/A reads blank, as in the other workbook formats
        if kind == "d":  # an ISO 8601 date cell, which Excel itself does not write
            return _iso_moment(text)
        return text  # an inline string, or a formula's text

    def _number(self, dated: bool, text: str) -> str:
        if not text:
            return ""
        number = float(text)
        if dated:
            return self._moment(number)
        return general_number(number)

    def _moment(self, serial: float) -> str:
        if serial < _LEAP_BUG_SERIAL and self.epoch.year == 1899 and serial >= 1:
            serial += 1
        # To the second, as the cell shows it: a float of days is a few microseconds off.
        moment = self.epoch + timedelta(seconds=round(serial * 86_400))
        if 0 <= serial < 1:  # a time of day alone
            return moment.time().isoformat()
        return moment_text(moment)


def _iso_moment(text: str) -> str:
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return text
    return moment_text(moment)


class XlsxRows:
    """A sheet's records, parsed as they are asked for."""

    def __init__(self, archive: zipfile.ZipFile, part: str, date1904: bool) -> None:
        strings = SharedStrings()
        strings.read(archive)
        self._archive = archive
        self._cells = cells = _Cells(strings, date_styles(archive), date1904)
        self._buffers = _fed(archive, part, (cells.start, cells.end, cells.chars))
        self.done = False
        self.line = 0

    @property
    def last_row(self) -> int:
        return self._cells.last_row

    def take(self, count: int) -> list[Record]:
        """The records among the next ``count`` or so rows (a buffer's worth more at most)."""
        cells = self._cells
        try:
            while len(cells.records) < count and not self.done:
                if next(self._buffers, False) is False:
                    self.done = True
        except DAMAGED as exc:
            raise damaged_after(cells.row, exc) from None
        taken, cells.records = cells.records, []
        if taken:
            self.line = taken[-1][0]
        return taken

    def close(self) -> None:
        self._buffers.close()
        self._archive.close()
        self.done = True


def load(path: Path, wanted: str | None) -> tuple[str, XlsxRows]:
    """The chosen sheet's name and rows; ``SheetNotFound`` when the workbook lacks it,
    ``NotTextError`` when the workbook cannot be read."""

    def open_sheet(archive: zipfile.ZipFile) -> tuple[str, XlsxRows]:
        entries, date1904 = sheet_entries(archive)
        name = pick_sheet([entry for entry, _ in entries], wanted)
        part = next(part for entry, part in entries if entry.name == name)
        if part not in archive.NameToInfo:
            raise NotTextError(f'the workbook lacks the sheet "{name}" it lists; {SAVE_AGAIN}')
        return name, XlsxRows(archive, part, date1904)

    return opened(path, open_sheet)
