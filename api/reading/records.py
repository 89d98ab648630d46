"""Bytes of an uploaded file in, CSV records with their physical line numbers out.

The worker streams an upload in chunks that may split a UTF-8 character, a CRLF pair or a quoted
cell anywhere, so ``RecordReader`` is push style: ``feed()`` each chunk, then ``finish()``. Each
call returns the records it completed as ``(line, cells)``; ``line`` is the 1-based physical line
on which the record starts, cells are raw (not trimmed). The rules are those of docs/format.md,
"The file": encodings, delimiter detection from the header line, RFC 4180 quoting, LF/CRLF/CR
line endings, and skipping of rows that hold only delimiters and white space (they still count
as lines).

Sniffing (encoding, binary magic numbers, NUL bytes) waits for the first ``SNIFF_BYTES`` bytes or
for ``finish()``, so ``feed()`` returns nothing until then. A file that starts as a workbook's
container raises ``WorkbookFound`` there, before any record: ``workbooks.py`` reads it.

Speed matters (a million rows in about a second), so no Python code runs per character
and little per record: text without quotes is cut with ``str.split``, which is what CSV parsing
amounts to there; text with quotes goes through the C ``csv`` module over physical lines, and
only when a record spans several lines does a Python loop ask the reader for line numbers.
"""

from __future__ import annotations

import codecs
import csv
import encodings.cp1252
import io
import itertools
import re
from collections.abc import Callable
from operator import itemgetter

Record = tuple[int, list[str]]

SNIFF_BYTES = 4096
"""How many leading bytes decide the encoding and whether the file is text at all."""

_DELIMITERS = (",", ";", "\t")  # in order of preference when counts tie

# Parsed after the lines: a blank row if the last record was complete, else part of its open cell.
_END = ("\n",)

_first_cell = itemgetter(0)

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF87a", "a GIF image"),
    (b"GIF89a", "a GIF image"),
    (b"%PDF-", "a PDF document"),
    (b"\x1f\x8b", "a gzip archive"),
)
# Containers a workbook comes in: a ZIP archive (.xlsx, .xlsm, .ods, but also .docx or any
# archive) and an OLE2 compound file (.xls, but also .doc): the workbook reader looks inside.
_CONTAINERS: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "zip"),
    (b"PK\x05\x06", "zip"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2"),
)
# Control bytes other than tab, line feed and carriage return: a few are a text file's
# accidents (reported on their lines), a tenth of the first bytes is a binary file.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_BINARY_SHARE = 0.1

_SAVE_AS_CSV = "save it as CSV (for example in Excel: File > Save As > CSV UTF-8) and upload that"
# Excel's first line naming the delimiter ("sep=;"): it is not the header.
_SEP_LINE = re.compile(r"\s*sep=(.)\s*", re.IGNORECASE)

# str.splitlines() also breaks on these; in a CSV file they are cell content.
_NOT_LINE_BREAKS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029")

# Windows-1252 leaves five bytes undefined; Excel never writes them, but a stray one must not
# abort the import, so they decode as their Latin-1 control characters (row checks reject those).
_CP1252_TABLE = "".join(
    chr(byte) if char == "\ufffe" else char
    for byte, char in enumerate(encodings.cp1252.decoding_table)
)

# A record may be this many times max_field_chars before it is refused: it bounds the memory
# held for a line that never ends (a file without line breaks, a quote that is never closed).
_RECORD_LIMIT_FACTOR = 10


class NotTextError(Exception):
    """The upload is not text (``not_text``); ``str(exc)`` is the message for a person."""


class WorkbookFound(Exception):
    """The upload is no text but a container a workbook comes in (``container``: ``zip`` or
    ``ole2``); nothing was read from it as records, and the workbook reader takes it over."""

    def __init__(self, container: str) -> None:
        super().__init__(f"the file is a {container} container")
        self.container = container


class Utf8FallbackNeeded(Exception):
    """The file looked like BOM-less UTF-8 but is not valid UTF-8.

    Records already returned are void: the caller restarts the whole file with
    ``RecordReader(encoding="cp1252")``.
    """


class CsvSyntaxError(Exception):
    """The text cannot be split into CSV records (an over-long cell, an unclosed quote)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


_Decoder = Callable[[bytes, bool], str]


class RecordReader:
    """Push-style CSV reader: ``feed()`` chunks of bytes, then ``finish()``.

    ``encoding`` None sniffs it: a UTF-8 BOM gives ``utf-8-sig``, a UTF-16 BOM ``utf-16``,
    anything else strict ``utf-8`` (``Utf8FallbackNeeded`` when that proves wrong). Any other
    value is a Python codec name; ``"cp1252"`` never fails to decode. ``encoding`` holds the
    codec in use (``"utf-8"`` until sniffing is done).

    ``max_field_chars`` should stay below ``csv.field_size_limit()`` (131072 by default); a cell
    beyond that limit is reported the same way, by the csv module's own check.
    """

    def __init__(self, encoding: str | None = None, max_field_chars: int = 100_000) -> None:
        self._requested = codecs.lookup(encoding).name if encoding else None
        self.encoding: str = self._requested or "utf-8"
        self.delimiter: str | None = None
        self.bytes_consumed = 0
        self._max_field = max_field_chars
        self._max_record = max_field_chars * _RECORD_LIMIT_FACTOR
        self._head = b""  # bytes held until sniffing
        self._decode: _Decoder | None = None
        self._carry = ""  # decoded text not yet parsed: a partial line or an unfinished record
        self._lines_done = 0  # physical lines before self._carry
        # Set once decoded text holds a NUL character: records must then be looked at for one.
        self.saw_nul = False
        # Empty rows skipped before the last record so far, and those after it (not counted
        # unless a record follows: a file's trailing empty rows are no rows, as in a sheet).
        self.blank_rows = 0
        self._blank_tail = 0

    def feed(self, data: bytes) -> list[Record]:
        """Take the next chunk; return every record it completes."""
        self.bytes_consumed += len(data)
        if self._decode is None:
            self._head += data
            if len(self._head) < SNIFF_BYTES:
                return []
            data, self._head = self._head, b""
            self._decode = self._start(data)
        return self._records(self._decode(data, False), final=False)

    def finish(self) -> list[Record]:
        """Signal end of file; return the records still pending."""
        data = b""
        if self._decode is None:
            data, self._head = self._head, b""
            self._decode = self._start(data)
        return self._records(self._decode(data, True), final=True)

    @property
    def _delimiter(self) -> str:
        return self.delimiter or ","

    # -- sniffing and decoding -------------------------------------------------------------------

    def _start(self, head: bytes) -> _Decoder:
        _refuse_known_formats(head)
        if self._requested is None:
            if head.startswith(codecs.BOM_UTF8):
                self.encoding = "utf-8-sig"
            elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                self.encoding = "utf-16"
            else:
                self.encoding = _utf16_without_bom(head) or self.encoding
        if self.encoding.startswith("utf-16"):
            # A UTF-16 file is full of NUL bytes, but its characters are not: decoded, a share
            # of control characters means it is no text (UTF-32 starts with the UTF-16 LE
            # byte-order mark and would decode to text full of NULs).
            sample = codecs.getincrementaldecoder(self.encoding)("replace").decode(head)
            _refuse_control(sample.encode("utf-8", "replace"))
        elif head.lstrip().startswith(b"<?xml") and b"opendocument" in head:
            raise NotTextError(
                "the file is a flat OpenDocument spreadsheet (.fods), which is not read: save it "
                f"as .ods, or {_SAVE_AS_CSV}"
            )
        else:
            _refuse_control(head)
        if self.encoding == "cp1252":
            return _decode_cp1252
        return self._incremental(self.encoding)

    def _incremental(self, encoding: str) -> _Decoder:
        decoder = codecs.getincrementaldecoder(encoding)("strict")
        decoded = 0  # bytes decoded before the current chunk, to say where a bad byte is

        def decode(data: bytes, final: bool) -> str:
            nonlocal decoded
            try:
                text = decoder.decode(data, final)
            except UnicodeDecodeError as exc:
                offset = decoded - len(decoder.getstate()[0]) + exc.start
                if encoding == "utf-8":
                    raise Utf8FallbackNeeded(f"byte {offset} is not valid UTF-8") from None
                raise NotTextError(
                    f"the file is not valid {encoding} text (byte {offset}); {_SAVE_AS_CSV}"
                ) from None
            decoded += len(data)
            return text

        return decode

    # -- splitting -------------------------------------------------------------------------------

    def _records(self, text: str, final: bool) -> list[Record]:
        if not self.saw_nul and "\x00" in text:
            self.saw_nul = True
        if self._carry:
            text = self._carry + text
            self._carry = ""
        if self.delimiter is None:
            text = self._take_sep_line(text)
            if self.delimiter is None:
                self.delimiter = _detect_delimiter(text, final)
            if self.delimiter is None:
                self._hold(text)
                return []
        end = len(text) if final else _complete_lines_end(text)
        if end == 0:
            self._hold(text)
            return []
        if end < len(text):
            text, rest = text[:end], text[end:]
        else:
            rest = ""
        if '"' in text or _has_other_breaks(text):
            records = self._parse(_physical_lines(text), final)
        else:
            records = self._split(text)
        self._hold(self._carry + rest)
        return records

    def _take_sep_line(self, text: str) -> str:
        """A first line ``sep=;`` sets the delimiter; it is line 1 and not the header."""
        end = _complete_lines_end(text)
        first = text[:end].splitlines()[0] if end else ""
        found = _SEP_LINE.fullmatch(first)
        if found is None:
            return text
        self.delimiter = found.group(1)
        self._lines_done += 1
        return text[len(first) :].removeprefix("\r\n").removeprefix("\n").removeprefix("\r")

    def _hold(self, text: str) -> None:
        if len(text) > self._max_record:
            line = self._lines_done + 1
            raise CsvSyntaxError(
                line,
                f"the record starting on line {line} runs for more than {self._max_record} "
                "characters; check that the file has line breaks and that every quote is closed",
            )
        self._carry = text

    def _split(self, text: str) -> list[Record]:
        """Complete lines without quotes: each is one record, cut at every delimiter."""
        lines = text.splitlines()
        if max(map(len, lines), default=0) > self._max_field:
            return self._parse_slowly(_physical_lines(text), final=False)
        return self._numbered(list(map(str.split, lines, itertools.repeat(self._delimiter))))

    def _parse(self, lines: list[str], final: bool) -> list[Record]:
        """Parse complete physical lines; an unfinished last record goes back to the carry."""
        if max(map(len, lines), default=0) <= self._max_field:  # so no single-line cell is either
            try:
                rows = list(csv.reader(itertools.chain(lines, _END), delimiter=self._delimiter))
            except csv.Error:
                rows = []
            # One record per line and the last one complete (the end marker read as a blank
            # row): line numbers follow without asking the reader, which is much faster.
            if len(rows) == len(lines) + 1 and not rows[-1]:
                del rows[-1]
                return self._numbered(rows)
        return self._parse_slowly(lines, final)

    def _numbered(self, rows: list[list[str]]) -> list[Record]:
        """Records for rows that are one physical line each, blank rows left out."""
        pairs = zip(itertools.count(self._lines_done + 1), rows)
        self._lines_done += len(rows)
        records = list(itertools.compress(pairs, rows))  # drops the [] csv reads for "\n"
        # Text in the first cell settles it; only rows without (rare) need a closer look.
        if not all(map(str.strip, map(_first_cell, filter(None, rows)))):
            records = [record for record in records if _has_text(record[1])]
        if len(records) < len(rows) or self._blank_tail:
            # One row a line: the rows after the last record are the empty ones at the end.
            after = self._lines_done - records[-1][0] if records else len(rows)
            self._count_blank(len(rows) - len(records), after, found=bool(records))
        return records

    def _count_blank(self, skipped: int, after: int, *, found: bool) -> None:
        """``skipped`` empty rows of a slice, ``after`` of them past its last record, if it
        ``found`` any."""
        if found:
            self.blank_rows += self._blank_tail + skipped - after
            self._blank_tail = after
        else:
            self._blank_tail += skipped

    def _parse_slowly(self, lines: list[str], final: bool) -> list[Record]:
        reader = csv.reader(itertools.chain(lines, _END), delimiter=self._delimiter)
        base = self._lines_done
        out: list[Record] = []
        blank: list[int] = []  # the lines of empty rows
        prev = 0  # lines used by the records before the current one
        try:
            for row in reader:
                num = reader.line_num
                if num > len(lines):
                    # The end marker: a blank row, unless the lines ran out inside quotes.
                    if row:
                        self._unfinished(row, lines, prev, final)
                    break
                line = base + prev + 1
                if max(map(len, row), default=0) > self._max_field:
                    raise CsvSyntaxError(line, self._too_long(line))
                if _has_text(row):
                    out.append((line, row))
                else:
                    blank.append(line)
                prev = num
        except csv.Error as exc:
            line = base + prev + 1
            if "field limit" in str(exc):
                raise CsvSyntaxError(line, self._too_long(line)) from None
            raise CsvSyntaxError(line, f"line {line} cannot be read as CSV: {exc}") from None
        self._lines_done = base + prev
        if blank or self._blank_tail:
            last = out[-1][0] if out else 0
            self._count_blank(len(blank), sum(line > last for line in blank), found=bool(out))
        return out

    def _unfinished(self, row: list[str], lines: list[str], prev: int, final: bool) -> None:
        """The lines ran out inside a quoted cell: keep the record for the next chunk, or fail."""
        start = self._lines_done + prev + 1
        if final:
            # The open cell is the last one; the breaks in the cells before it say on which
            # line it began.
            before = "".join(cell + self._delimiter for cell in row[:-1])
            line = start + len(_physical_lines(before + "x")) - 1
            raise CsvSyntaxError(
                line,
                f"the quoted cell that starts on line {line} has no closing quote; "
                'close it, or double every quote inside a cell ("")',
            )
        if max(map(len, row), default=0) > self._max_field:
            raise CsvSyntaxError(start, self._too_long(start))
        self._carry = "".join(lines[prev:])

    def _too_long(self, line: int) -> str:
        return (
            f"a cell of the record on line {line} is longer than {self._max_field} characters; "
            "shorten it, or check for a quote that is never closed"
        )


def _refuse_known_formats(head: bytes) -> None:
    """``NotTextError`` naming what the file is, when its first bytes tell a known format;
    ``WorkbookFound`` when they tell a container a workbook comes in."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            raise NotTextError(f"the file is {what}, not CSV text; {_SAVE_AS_CSV}")
    for magic, container in _CONTAINERS:
        if head.startswith(magic):
            raise WorkbookFound(container)


def _refuse_control(head: bytes) -> None:
    """``NotTextError`` when too many of the first bytes are control characters."""
    if head and len(head) - len(head.translate(None, _CONTROL_BYTES)) > _BINARY_SHARE * len(head):
        raise NotTextError(
            "the file holds too many control characters to be text (it looks like an image, "
            f"an archive or another binary file); {_SAVE_AS_CSV}"
        )


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 without a byte-order mark shows in its first line: every other byte is zero."""
    sample = head[: min(len(head), 200) // 2 * 2]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if not odd.strip(b"\x00") and even.count(0) == 0:
        return "utf-16-le"
    if not even.strip(b"\x00") and odd.count(0) == 0:
        return "utf-16-be"
    return None


def _decode_cp1252(data: bytes, final: bool) -> str:
    return codecs.charmap_decode(data, "strict", _CP1252_TABLE)[0]


def _has_other_breaks(text: str) -> bool:
    return any(char in text for char in _NOT_LINE_BREAKS)


def _physical_lines(text: str) -> list[str]:
    """Split after each \\r, \\n or \\r\\n only, keeping the line ends."""
    if _has_other_breaks(text):
        return list(io.StringIO(text, newline=""))
    return text.splitlines(keepends=True)  # faster, and equal when those characters are absent


def _complete_lines_end(text: str) -> int:
    """Index just after the last line end that is certainly complete (0 if none)."""
    end = max(text.rfind("\n"), text.rfind("\r")) + 1
    if end == len(text) and text.endswith("\r"):  # may be the first half of a CRLF
        end = max(text.rfind("\n", 0, end - 1), text.rfind("\r", 0, end - 1)) + 1
    return end


def _has_text(row: list[str]) -> bool:
    joined = "".join(row)
    return bool(joined) and not joined.isspace()


def _detect_delimiter(text: str, final: bool) -> str | None:
    """The delimiter counted most often outside quotes in the first non-blank line.

    None when that line is not complete yet; "," when nothing decides.
    """
    for line in io.StringIO(text, newline=""):
        if not final and line[-1] not in "\r\n":
            return None
        if all(char in _DELIMITERS or char.isspace() for char in line):
            continue
        outside = line.split('"')[::2]  # doubled quotes inside a cell toggle twice
        counts = {d: sum(part.count(d) for part in outside) for d in _DELIMITERS}
        best = max(_DELIMITERS, key=counts.__getitem__)
        return best if counts[best] else ","
    return "," if final else None
