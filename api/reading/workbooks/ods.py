"""An .ods sheet streamed row by row, so that memory stays flat in its rows.

python-calamine loads an OpenDocument sheet whole (docs/performance.md, "Choices measured"), so
this reads the document's ``content.xml`` itself with the standard library's expat, a buffer at
a time: the automatic styles (which sheets are hidden), then the sheets as ``table:table``
elements in order. The sheet is chosen as the tables come, in the same pass that reads its rows
(``load``); only a name matched by letter case or spaces alone needs a second pass, since an
exact match later in the document would win. Repeated rows and cells (LibreOffice ends each
sheet with an empty row repeated to row 1,048,576, each row with an empty cell repeated to
column 16,384) are counted, not materialised.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO
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

# The namespaces read, by the prefixes every writer declares for them on the root element.
# Names are matched as prefix:local, which spares expat's namespace processing (a quarter of
# the time); a document that declares them otherwise is read with it (``_Namespaced``).
_NAMESPACES = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "calcext": "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0",
}
_PREFIXES = {uri: prefix for prefix, uri in _NAMESPACES.items()}
_REQUIRED = ("office", "table", "text")  # without them a document has no cells

_SHEET = "table:table"
_ROW = "table:table-row"
_CELLS = ("table:table-cell", "table:covered-table-cell")  # a covered cell is under a merge
_PARAGRAPHS = ("text:p", "text:h")
_SPACES = "text:s"
_TAB = "text:tab"
_LINE_BREAK = "text:line-break"
# A comment, a table within a cell: no part of the cell's value (nor are shapes, "draw:").
_PASSED_OVER = ("office:annotation", "table:table")
_STYLE_STYLE = "style:style"
_TABLE_PROPERTIES = "style:table-properties"

_NAME = "table:name"
_SHEET_STYLE = "table:style-name"
_DISPLAY = "table:display"
_STYLE_NAME = "style:name"
_FAMILY = "style:family"
_ROWS_REPEATED = "table:number-rows-repeated"
_COLUMNS_REPEATED = "table:number-columns-repeated"
_VALUE_TYPE = "office:value-type"
_VALUE = "office:value"
_STRING_VALUE = "office:string-value"
_DATE_VALUE = "office:date-value"
_TIME_VALUE = "office:time-value"
_BOOLEAN_VALUE = "office:boolean-value"
_CALC_VALUE_TYPE = "calcext:value-type"
_SPACE_COUNT = "text:c"

_CONTENT = "content.xml"
_READ_BYTES = 1 << 16
_NUMBERS = frozenset({"float", "percentage", "currency"})
# The last row and column of Excel and of LibreOffice: a repeated row or cell that holds
# something is repeated up to them, no further (a file may ask for billions).
_MAX_ROWS = 1_048_576
_MAX_SPACES = 100_001  # past the longest cell allowed (docs/format.md, "Limits"), which fails
# An ISO 8601 duration as office:time-value holds it: PT13H05M00S, P1DT2H, -PT0.5S.
_DURATION = re.compile(r"(-?)P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d*)?)S)?)?")

Start = Callable[[str, dict[str, str]], None]
End = Callable[[str], None]
Text = Callable[[str], None]
# Whether to read this sheet: (its index among the sheets, its entry) -> bool.
Choose = Callable[[int, SheetEntry], bool]


def _number(text: str | None) -> str:
    if not text:
        return ""
    # LibreOffice writes whole numbers as such: they need no float's round trip.
    if len(text) < 16 and text.isascii() and text.isdigit() and (text[0] != "0" or text == "0"):
        return text
    return general_number(float(text))


def _date(text: str | None) -> str:
    if not text:
        return ""
    if len(text) == 10:  # yyyy-mm-dd, as LibreOffice writes a date
        return text
    try:
        moment = datetime.fromisoformat(text.strip()).replace(tzinfo=None)
        # To the second, as the cell shows it.
        if moment.microsecond:
            moment = (moment + timedelta(microseconds=500_000)).replace(microsecond=0)
    except (ValueError, OverflowError):
        return text
    return moment_text(moment)


def _time(text: str | None) -> str:
    if not text:
        return ""
    match = _DURATION.fullmatch(text.strip())
    if match is None:
        return text
    sign, days, hours, minutes, seconds = match.groups()
    total = round(
        (int(days or 0) * 24 + int(hours or 0)) * 3600
        + int(minutes or 0) * 60
        + float((seconds or "0").replace(",", "."))
    )
    # Hours past 24 stay hours, as a spreadsheet shows a duration: 36:00:00.
    hours_, rest = divmod(total, 3600)
    return f"{sign}{hours_:02d}:{rest // 60:02d}:{rest % 60:02d}"


def _value(kind: str, attrs: dict[str, str]) -> str:
    """A cell's value by its office:value-type, but for text and plain numbers."""
    if kind in _NUMBERS:
        return _number(attrs.get(_VALUE))
    if kind == "date":
        return _date(attrs.get(_DATE_VALUE))
    if kind == "time":
        return _time(attrs.get(_TIME_VALUE))
    if kind == "boolean":
        value = attrs.get(_BOOLEAN_VALUE, "").strip().lower()
        return "TRUE" if value in ("true", "1") else "FALSE" if value else ""
    return ""  # no value type, or one this reader does not know: a blank cell


class _Namespaced(Exception):
    """The document declares its namespaces otherwise than every writer does: it is read
    again with expat's namespace processing."""


def _qualified(name: str) -> str:
    """A name as namespace processing gives it ("uri local"), as the usual prefix:local."""
    uri, _, local = name.rpartition(" ")
    prefix = _PREFIXES.get(uri)
    return f"{prefix}:{local}" if prefix else name


def _translated(start: Start | None, end: End | None) -> tuple[Start | None, End | None]:
    """The handlers, given the names as namespace processing gives them."""

    def translated_start(tag: str, attrs: dict[str, str]) -> None:
        assert start is not None
        start(_qualified(tag), {_qualified(key): value for key, value in attrs.items()})

    def translated_end(tag: str) -> None:
        assert end is not None
        end(_qualified(tag))

    return (
        None if start is None else translated_start,
        None if end is None else translated_end,
    )


class _Content:
    """The expat handlers for ``content.xml``: the sheet list as its tables come, then the
    chosen table's rows as records; the other tables, comments and shapes passed over."""

    __slots__ = (
        "cells",
        "choose",
        "collecting",
        "extra",
        "finished",
        "gap",
        "hidden",
        "in_paragraph",
        "name",
        "namespaced",
        "next_row",
        "paragraphs",
        "parser",
        "parts",
        "records",
        "repeat",
        "repeats",
        "resume",
        "row",
        "row_repeat",
        "skipped",
        "style",
        "tables",
        "value",
    )

    def __init__(self, parser: expat.XMLParserType, choose: Choose, namespaced: bool) -> None:
        self.parser = parser
        self.choose = choose
        self.namespaced = namespaced
        self.hidden: set[str] = set()  # the table styles that hide a sheet
        self.style: str | None = None  # the table style being read
        self.tables = 0
        self.name: str | None = None  # the chosen sheet's, once chosen
        self.finished = False  # the chosen sheet has ended, or the document
        self.records: list[Record] = []
        self.repeats: dict[int, int] = {}  # a record's index in records -> how many rows it is
        self.extra = 0  # the rows that repeats add to records
        self.row = 0
        self.next_row = 1
        self.row_repeat = 1
        self.cells: list[str] = []
        self.gap = 0  # blank cells not yet added to cells: only a later value adds them
        self.repeat = 1
        self.value = ""
        self.collecting = False  # the cell's paragraphs are its value
        self.parts: list[str] = []
        self.paragraphs = 0
        self.in_paragraph = 0
        self.skipped = 0
        self.resume: tuple[Start | None, End | None, Text | None] = (None, None, None)
        self._handle(self._seek_start if namespaced else self._root, None, None)

    def _handle(self, start: Start | None, end: End | None, text: Text | None) -> None:
        parser = self.parser
        if self.namespaced:
            start, end = _translated(start, end)
        parser.StartElementHandler = start
        parser.EndElementHandler = end
        parser.CharacterDataHandler = text

    def _root(self, tag: str, attrs: dict[str, str]) -> None:
        """Check that the root element declares the usual prefixes (a namespace declared
        further in, or with another prefix, would go unseen): ``_Namespaced`` if not."""
        usual = all(attrs.get(f"xmlns:{prefix}") == _NAMESPACES[prefix] for prefix in _REQUIRED)
        for key, uri in attrs.items():
            if key == "xmlns" or key.startswith("xmlns:"):
                prefix = _PREFIXES.get(uri)
                bound = _NAMESPACES.get(key[6:])
                if (prefix is not None and key != f"xmlns:{prefix}") or bound not in (None, uri):
                    usual = False
        if not usual:
            raise _Namespaced
        self._handle(self._seek_start, None, None)

    def _skip(self, start: Start | None, end: End | None, text: Text | None) -> None:
        """Pass over the element just started, then go on with these handlers."""
        self.skipped = 1
        self.resume = (start, end, text)
        parser = self.parser
        parser.StartElementHandler = self._skip_start
        parser.EndElementHandler = self._skip_end
        parser.CharacterDataHandler = None

    def _skip_start(self, tag: str, attrs: dict[str, str]) -> None:
        self.skipped += 1

    def _skip_end(self, tag: str) -> None:
        self.skipped -= 1
        if not self.skipped:
            self._handle(*self.resume)

    def _seek_start(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == _SHEET:
            entry = SheetEntry(
                name=attrs.get(_NAME, ""), visible=attrs.get(_SHEET_STYLE) not in self.hidden
            )
            self.tables += 1
            if self.choose(self.tables - 1, entry):
                self.name = entry.name
                self._handle(self._start, self._end, self._text)
            else:
                self._skip(self._seek_start, None, None)
        elif tag == _STYLE_STYLE:
            self.style = attrs.get(_STYLE_NAME) if attrs.get(_FAMILY) == "table" else None
        elif tag == _TABLE_PROPERTIES and self.style and attrs.get(_DISPLAY) == "false":
            self.hidden.add(self.style)

    def _start(self, tag: str, attrs: dict[str, str]) -> None:
        # The tags in the order of how often they come; a cell's value is in its attributes
        # but for text.
        if tag in _CELLS:
            repeat = attrs.get(_COLUMNS_REPEATED)
            self.repeat = max(1, int(repeat)) if repeat else 1
            kind = attrs.get(_VALUE_TYPE)
            if kind == "string":
                text = attrs.get(_STRING_VALUE)
                if text is not None:  # a formula's text result
                    self.value = text
                elif attrs.get(_CALC_VALUE_TYPE) == "error":  # #DIV/0! and the like: blank
                    self.value = ""
                else:
                    self.value = ""
                    self.collecting = True
                    self.parts = []
                    self.paragraphs = 0
            elif kind is None:
                self.value = ""
            elif kind == "float":
                self.value = _number(attrs.get(_VALUE))
            else:
                self.value = _value(kind, attrs)
        elif tag in _PARAGRAPHS:
            self.in_paragraph += 1
            if self.collecting:
                if self.paragraphs:
                    self.parts.append("\n")
                self.paragraphs += 1
        elif tag == _ROW:
            self.row = self.next_row
            repeat = attrs.get(_ROWS_REPEATED)
            self.row_repeat = max(1, int(repeat)) if repeat else 1
            self.cells = []
            self.gap = 0
        elif tag == _SPACES:
            if self.in_paragraph and self.collecting:
                count = attrs.get(_SPACE_COUNT)
                self.parts.append(" " * (min(int(count), _MAX_SPACES) if count else 1))
        elif tag == _TAB:
            if self.in_paragraph and self.collecting:
                self.parts.append("\t")
        elif tag == _LINE_BREAK:
            if self.in_paragraph and self.collecting:
                self.parts.append("\n")
        elif tag in _PASSED_OVER or tag.startswith("draw:"):
            self._skip(self._start, self._end, self._text)

    def _end(self, tag: str) -> None:
        if tag in _CELLS:
            if self.collecting:
                self.collecting = False
                value = "".join(self.parts)
            else:
                value = self.value
            if value:
                cells = self.cells
                if self.gap or self.repeat != 1 or len(cells) >= MAX_COLUMNS:
                    self._spread(value)
                else:
                    cells.append(value)
            else:
                self.gap += self.repeat
        elif tag in _PARAGRAPHS:
            self.in_paragraph -= 1
        elif tag == _ROW:
            row, repeat, cells = self.row, self.row_repeat, self.cells
            self.next_row = row + repeat
            if cells and not "".join(cells).isspace():
                records = self.records
                records.append((row, cells))
                times = min(repeat, _MAX_ROWS + 1 - row)
                if times > 1:
                    self.repeats[len(records) - 1] = times
                    self.extra += times - 1
        elif tag == _SHEET:
            self.finished = True
            self._handle(None, None, None)

    def _spread(self, value: str) -> None:
        """Add the blank cells before the value and the value as often as it repeats, up to
        the last column."""
        cells = self.cells
        room = MAX_COLUMNS - len(cells) - self.gap
        if room <= 0:
            return
        if self.gap:
            cells.extend([""] * self.gap)
            self.gap = 0
        cells.extend([value] * min(self.repeat, room))

    def _text(self, data: str) -> None:
        if self.in_paragraph and self.collecting:
            self.parts.append(data)

    def taken(self, count: int) -> list[Record]:
        """The records read so far, a repeated row as the rows it stands for (up to ``count``
        rows of those, the rest kept for later)."""
        records = self.records
        if not self.repeats:
            self.records = []
            return records
        out: list[Record] = []
        index = 0
        while index < len(records) and len(out) < count:
            row, cells = records[index]
            times = self.repeats.pop(index, 1)
            rows = min(times, max(1, count - len(out)))
            out.append((row, cells))
            out.extend((row + n, list(cells)) for n in range(1, rows))
            if rows < times:  # the rest of the repeat comes next time
                records[index] = (row + rows, list(cells))
                self.repeats[index] = times - rows
                self.extra -= rows
                break
            self.extra -= rows - 1
            index += 1
        self.records = records[index:]
        self.repeats = {at - index: times for at, times in self.repeats.items()}
        return out


class OdsRows:
    """A sheet's records, parsed as they are asked for."""

    def __init__(self, archive: zipfile.ZipFile, choose: Choose) -> None:
        self._archive = archive
        self._choose = choose
        self._size = archive.getinfo(_CONTENT).file_size
        self._read = 0
        self._part: IO[bytes] = archive.open(_CONTENT)
        self._content = self._parsing(namespaced=False)
        self._buffers = self._fed()
        self.done = False
        self.line = 0

    def _parsing(self, namespaced: bool) -> _Content:
        self._parser = parser = expat.ParserCreate(namespace_separator=" " if namespaced else None)
        parser.buffer_text = True
        return _Content(parser, self._choose, namespaced)

    def _fed(self) -> Generator[None, None, None]:
        """Feed content.xml to the parser a buffer at a time, pausing after each buffer; no
        further than the chosen sheet's end."""
        content = self._content
        while not content.finished and (data := self._part.read(_READ_BYTES)):
            self._read += len(data)
            try:
                self._parser.Parse(data, False)
            except _Namespaced:  # raised by the root element, in the first buffer
                self._content = content = self._parsing(namespaced=True)
                self._parser.Parse(data, False)
            yield
        if not content.finished:
            self._parser.Parse(b"", True)
            content.finished = True  # the document has ended

    @property
    def name(self) -> str | None:
        return self._content.name

    @property
    def last_row(self) -> int:
        """An estimate: the document does not say how many rows a sheet has, but how far
        through it the reading is tells (the percent shown goes by it)."""
        return self.line * self._size // self._read if self._read else 0

    def seek(self) -> bool:
        """Parse until a sheet is chosen; whether one was (else the document has ended)."""
        for _ in self._buffers:
            if self._content.name is not None:
                return True
        return self._content.name is not None

    def take(self, count: int) -> list[Record]:
        """The records among the next ``count`` or so rows (a buffer's worth more at most)."""
        content = self._content
        try:
            while len(content.records) + content.extra < count and not content.finished:
                if next(self._buffers, False) is False:
                    break
        except DAMAGED as exc:
            raise damaged_after(content.row, exc) from None
        content = self._content
        taken = content.taken(count)
        if taken:
            self.line = taken[-1][0]
        self.done = content.finished and not content.records
        return taken

    def stop(self) -> None:
        """Let go of content.xml, keeping the archive."""
        self._buffers.close()
        self._part.close()
        self.done = True

    def close(self) -> None:
        self.stop()
        self._archive.close()


def _checked(archive: zipfile.ZipFile) -> None:
    """``NotTextError`` unless the archive holds a readable content.xml."""
    names = archive.NameToInfo
    manifest = names.get("META-INF/manifest.xml")
    # A small part; an encrypted document says so in it, its content.xml is ciphered.
    if manifest and manifest.file_size < 1 << 20 and b"encryption-data" in archive.read(manifest):
        raise NotTextError(
            "the workbook is protected by a password: save a copy without one and upload that"
        )
    if _CONTENT not in names:
        raise NotTextError(f"the workbook has no content.xml; {SAVE_AGAIN}")


def load(path: Path, wanted: str | None) -> tuple[str, OdsRows]:
    """The chosen sheet's name and rows; ``SheetNotFound`` when the workbook lacks it,
    ``NotTextError`` when the workbook cannot be read."""

    def open_sheet(archive: zipfile.ZipFile) -> tuple[str, OdsRows]:
        _checked(archive)
        entries: list[SheetEntry] = []

        def first_pass(index: int, entry: SheetEntry) -> bool:
            # The first visible sheet, or the one named exactly: nothing later can beat them.
            entries.append(entry)
            return entry.visible if wanted is None else entry.name == wanted

        rows = OdsRows(archive, first_pass)
        if rows.seek():
            return entries[-1].name, rows
        rows.stop()
        # No sheet, or one matched by letter case or spaces alone: read again up to it.
        name = pick_sheet(entries, wanted)
        chosen = next(index for index, entry in enumerate(entries) if entry.name == name)
        rows = OdsRows(archive, lambda index, entry: index == chosen)
        if not rows.seek():
            raise NotTextError(f'the workbook lost the sheet "{name}"; {SAVE_AGAIN}')
        return name, rows

    return opened(path, open_sheet)
