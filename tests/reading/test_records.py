"""RecordReader: bytes in any chunking -> records with the physical line they start on."""

from __future__ import annotations

import codecs
import csv
import io
import random

import pytest

from api.reading.records import (
    SNIFF_BYTES,
    CsvSyntaxError,
    NotTextError,
    Record,
    RecordReader,
    Utf8FallbackNeeded,
    WorkbookFound,
)

# Sniffing holds the first SNIFF_BYTES bytes back, so tests about chunk boundaries put their
# subject after this much filler: boundaries inside it would all fall before parsing starts.
PAD = "tag_id,about\n" + "pad-1,filler\n" * (SNIFF_BYTES // 13 + 1)
PAD_LINES = PAD.count("\n")


def read(
    data: bytes, size: int = 0, encoding: str | None = None, max_field_chars: int = 100_000
) -> list[Record]:
    """All records of ``data`` fed in chunks of ``size`` bytes (0: one chunk)."""
    reader = RecordReader(encoding=encoding, max_field_chars=max_field_chars)
    size = size or max(len(data), 1)
    records: list[Record] = []
    for start in range(0, len(data), size):
        records += reader.feed(data[start : start + size])
    return records + reader.finish()


def after_pad(records: list[Record]) -> list[Record]:
    assert records[:PAD_LINES] == [(1, ["tag_id", "about"])] + [
        (n, ["pad-1", "filler"]) for n in range(2, PAD_LINES + 1)
    ]
    return [(line - PAD_LINES, cells) for line, cells in records[PAD_LINES:]]


# -- encodings -------------------------------------------------------------------------------


def test_utf8_without_bom() -> None:
    reader = RecordReader()
    records = reader.feed("tag_id,about\nA-1,café\n".encode()) + reader.finish()
    assert records == [(1, ["tag_id", "about"]), (2, ["A-1", "café"])]
    assert reader.encoding == "utf-8"


def test_utf8_bom_is_not_part_of_the_first_cell() -> None:
    reader = RecordReader()
    data = codecs.BOM_UTF8 + "tag_id,about\r\nA-1,café\r\n".encode()
    records = reader.feed(data) + reader.finish()
    assert records == [(1, ["tag_id", "about"]), (2, ["A-1", "café"])]
    assert reader.encoding == "utf-8-sig"


@pytest.mark.parametrize(
    ("bom", "codec"), [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")]
)
def test_utf16_with_bom(bom: bytes, codec: str) -> None:
    text = PAD + "A-1,café €\r\nA-2,日本\r\n"
    data = bom + text.encode(codec)
    for size in (0, 1, 3, 1001):
        assert after_pad(read(data, size)) == [(1, ["A-1", "café €"]), (2, ["A-2", "日本"])]
    reader = RecordReader()
    reader.feed(data)
    assert reader.encoding == "utf-16"


def test_windows_1252_needs_the_fallback_then_reads_right() -> None:
    data = "tag_id,about\r\nA-1,Café à 5 €\r\n".encode("cp1252")
    with pytest.raises(Utf8FallbackNeeded):
        read(data)
    reader = RecordReader(encoding="cp1252")
    assert reader.feed(data) + reader.finish() == [
        (1, ["tag_id", "about"]),
        (2, ["A-1", "Café à 5 €"]),
    ]
    assert reader.encoding == "cp1252"


def test_fallback_is_signalled_from_a_later_chunk() -> None:
    data = (PAD + "A-1,ok\n").encode() + "A-2,Café\n".encode("cp1252")
    reader = RecordReader()
    assert reader.feed(data[: len(PAD)])  # records come out before the bad byte is seen
    with pytest.raises(Utf8FallbackNeeded):
        reader.feed(data[len(PAD) :])


def test_bytes_undefined_in_windows_1252_do_not_crash() -> None:
    assert read(b"a\r\nx\x81y\x9dz\r\n", encoding="cp1252") == [(1, ["a"]), (2, ["x\x81y\x9dz"])]


def test_multibyte_character_split_across_feeds() -> None:
    data = (PAD + "A-1,é€😀\n").encode()
    for cut in range(len(data) - 12, len(data)):
        reader = RecordReader()
        records = reader.feed(data[:cut]) + reader.feed(data[cut:]) + reader.finish()
        assert after_pad(records) == [(1, ["A-1", "é€😀"])], cut


def test_invalid_bytes_after_a_utf8_bom_are_not_text() -> None:
    with pytest.raises(NotTextError, match="not valid utf-8-sig"):
        read(codecs.BOM_UTF8 + b"a,b\r\n\xff\xfe\r\n")


# -- line endings ----------------------------------------------------------------------------


def test_crlf_split_across_chunks_counts_one_line() -> None:
    data = (PAD + "A-1,x\r\nA-2,y\r\n\r\nA-3,z\r\n").encode()
    for cut in range(len(PAD), len(data)):
        reader = RecordReader()
        records = reader.feed(data[:cut]) + reader.feed(data[cut:]) + reader.finish()
        assert after_pad(records) == [(1, ["A-1", "x"]), (2, ["A-2", "y"]), (4, ["A-3", "z"])]


def test_cr_only_and_mixed_line_endings() -> None:
    assert read(b"h1,h2\ra,b\rc,d") == [(1, ["h1", "h2"]), (2, ["a", "b"]), (3, ["c", "d"])]
    assert read(b"h1,h2\r\na,b\nc,d\re,f\n\rg,h\r\n") == [
        (1, ["h1", "h2"]),
        (2, ["a", "b"]),
        (3, ["c", "d"]),
        (4, ["e", "f"]),
        (6, ["g", "h"]),
    ]


def test_only_cr_and_lf_break_lines() -> None:
    # str.splitlines() would also break on these.
    for quoted in ("", '"q",'):
        data = f"h1,h2\n{quoted}a\x0bb\x0cc,d\x1ce\x85f\u2028g\u2029h\nx,y\n".encode()
        records = read(data)
        assert records[1] == (
            2,
            [*(["q"] if quoted else []), "a\x0bb\x0cc", "d\x1ce\x85f\u2028g\u2029h"],
        )
        assert records[2] == (3, ["x", "y"])


# -- quoting ---------------------------------------------------------------------------------


def test_quoted_cells_and_the_line_of_the_next_record() -> None:
    data = (
        b'tag_id,about\r\n"A-1","x, y"\r\n"A-2","he said ""hi"""\r\n'
        b'"A-3","two\r\nlines\nand\rthree"\r\nA-4,after\r\n'
    )
    assert read(data) == [
        (1, ["tag_id", "about"]),
        (2, ["A-1", "x, y"]),
        (3, ["A-2", 'he said "hi"']),
        (4, ["A-3", "two\r\nlines\nand\rthree"]),
        (8, ["A-4", "after"]),
    ]


def test_cells_are_not_trimmed() -> None:
    assert read(b"a,b\n x , y \n") == [(1, ["a", "b"]), (2, [" x ", " y "])]


# -- delimiters ------------------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_delimiter_is_detected_from_the_header(delimiter: str) -> None:
    text = delimiter.join(["tag_id", "case_status", "about"]) + "\n"
    text += delimiter.join(["A-1", "1", '"a, b;\tc"']) + "\n"
    reader = RecordReader()
    records = reader.feed(text.encode()) + reader.finish()
    assert reader.delimiter == delimiter
    assert records == [(1, ["tag_id", "case_status", "about"]), (2, ["A-1", "1", "a, b;\tc"])]


def test_comma_inside_a_quoted_header_cell_does_not_decide() -> None:
    reader = RecordReader()
    records = reader.feed(b'"Tag, ID";status\n\n"A-1";1\n') + reader.finish()
    assert reader.delimiter == ";"
    assert records == [(1, ["Tag, ID", "status"]), (3, ["A-1", "1"])]


def test_delimiter_comes_from_the_first_non_blank_line() -> None:
    reader = RecordReader()
    records = reader.feed(b"\r\n  \r\n\t \t\r\ntag_id\tabout\r\nA-1\tx,y\r\n") + reader.finish()
    assert reader.delimiter == "\t"
    assert records == [(4, ["tag_id", "about"]), (5, ["A-1", "x,y"])]


def test_delimiter_defaults_to_comma() -> None:
    reader = RecordReader()
    assert reader.delimiter is None
    assert reader.feed(b"tag_id\nA-1\n") + reader.finish() == [(1, ["tag_id"]), (2, ["A-1"])]
    assert reader.delimiter == ","


# -- blank records ---------------------------------------------------------------------------


def test_blank_and_delimiter_only_lines_are_skipped_but_counted() -> None:
    data = b'h1,h2\n\n , \n,,\n\t\n"",""\na,b\r\n\r\n ,c\n'
    assert read(data) == [(1, ["h1", "h2"]), (7, ["a", "b"]), (9, [" ", "c"])]
    # the same without any quote in the text
    data = b"h1,h2\n\n , \n,,\n\t\na,b\r\n\r\n ,c\n"
    assert read(data) == [(1, ["h1", "h2"]), (6, ["a", "b"]), (8, [" ", "c"])]


def test_empty_file() -> None:
    reader = RecordReader()
    assert reader.feed(b"") + reader.finish() == []
    assert read(b"\r\n \r\n") == []
    assert read(codecs.BOM_UTF8) == []


# -- not text --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "what"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "PNG image"),
        (b"%PDF-1.7\n", "PDF document"),
        (b"GIF89a\x01\x00", "GIF image"),
        (b"\xff\xd8\xff\xe0", "JPEG image"),
        (b"\x1f\x8b\x08\x00", "gzip archive"),
        (
            b'<?xml version="1.0"?>\n<office:document xmlns:office="urn:oasis:names:tc:opendocument'
            b':xmlns:office:1.0">',
            "flat OpenDocument spreadsheet",
        ),
        (bytes(range(32)) * 8, "too many control characters"),
    ],
)
def test_not_text(data: bytes, what: str) -> None:
    with pytest.raises(NotTextError, match=what):
        read(data)


@pytest.mark.parametrize(
    ("data", "container"),
    [
        (
            b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00[Content_Types].xmlxl/workbook.xml",
            "zip",
        ),
        (
            b"PK\x03\x04\n\x00\x00\x00\x00\x00mimetypeapplication/vnd.oasis.opendocument.spreadsheet",
            "zip",
        ),
        (b"PK\x05\x06" + bytes(18), "zip"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00", "ole2"),
    ],
)
def test_a_workbook_container_is_handed_to_the_workbook_reader(data: bytes, container: str) -> None:
    """ZIP archives (.xlsx, .ods, any other) and OLE2 files (.xls) are opened by workbooks.py,
    which tells a workbook from anything else; no record is read from them as text."""
    with pytest.raises(WorkbookFound) as found:
        read(data)
    assert found.value.container == container


def test_not_text_is_raised_by_the_first_chunk() -> None:
    reader = RecordReader()
    with pytest.raises(NotTextError, match="PNG"):
        reader.feed(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64)


def test_a_nul_in_a_text_file_stays_on_its_line_for_the_row_checks() -> None:
    reader = RecordReader()
    records = reader.feed(b"tag_id,about\nA-1,x\x00y\nA-2,z\n") + reader.finish()
    assert records == [(1, ["tag_id", "about"]), (2, ["A-1", "x\x00y"]), (3, ["A-2", "z"])]
    assert reader.saw_nul


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_a_byte_order_mark_shows_in_its_first_line(codec: str) -> None:
    reader = RecordReader()
    records = reader.feed("tag_id;about\r\nÜ-1;Straße\r\n".encode(codec)) + reader.finish()
    assert records == [(1, ["tag_id", "about"]), (2, ["Ü-1", "Straße"])]
    assert reader.encoding == codec


def test_a_sep_line_names_the_delimiter_and_is_not_the_header() -> None:
    reader = RecordReader()
    records = reader.feed(b"sep=;\r\ntag_id;about\r\nA-1;x,y\r\n") + reader.finish()
    assert records == [(2, ["tag_id", "about"]), (3, ["A-1", "x,y"])]
    assert reader.delimiter == ";"


def test_nul_bytes_are_fine_in_utf16_but_not_nul_characters() -> None:
    assert read(codecs.BOM_UTF16_LE + "a,b\r\n".encode("utf-16-le")) == [(1, ["a", "b"])]
    utf32 = codecs.BOM_UTF32_LE + "a,b\r\n".encode("utf-32-le")
    with pytest.raises(NotTextError):
        read(utf32)


# -- syntax errors ---------------------------------------------------------------------------


def test_unterminated_quote_names_the_line_where_the_cell_began() -> None:
    with pytest.raises(CsvSyntaxError) as caught:
        read(b'tag_id,about\nA-1,ok\nA-2,"never closed\nA-3,x\n')
    assert caught.value.line == 3
    assert "line 3" in caught.value.message
    assert "closing quote" in caught.value.message

    # The record starts on line 2, the open cell after a two-line cell, on line 3.
    data = (PAD + 'A-1,"two\nlines","open\nA-2,x\n').encode()
    for size in (0, 1, 7, 4099):
        with pytest.raises(CsvSyntaxError) as caught:
            read(data, size)
        assert caught.value.line == PAD_LINES + 2


def test_unterminated_quote_on_the_last_line_without_line_end() -> None:
    with pytest.raises(CsvSyntaxError) as caught:
        read(b'a,b\nc,"d')
    assert caught.value.line == 2


def test_over_long_cell() -> None:
    for data in (b"a,b\nc,d\nxxxxxxxxxxx,e\n", b'a,b\nc,d\n"xxxxx\nxxxxx",e\n'):
        with pytest.raises(CsvSyntaxError) as caught:
            read(data, max_field_chars=10)
        assert caught.value.line == 3
        assert "longer than 10 characters" in caught.value.message
    assert read(b"a,b\nxxxxxxxxxx,e\n", max_field_chars=10)[1] == (2, ["xxxxxxxxxx", "e"])


def test_over_long_cell_across_chunks_and_beyond_the_csv_module_limit() -> None:
    data = (PAD + 'A-1,"' + "x" * 300_000 + '"\n').encode()
    for size in (0, 1 << 16):
        with pytest.raises(CsvSyntaxError) as caught:
            read(data, size)
        assert caught.value.line == PAD_LINES + 1


def test_over_long_cell_made_of_short_lines() -> None:
    data = (PAD + 'A-1,"' + ("x" * 99 + "\n") * 2000 + '"\nA-2,y\n').encode()
    for size in (0, 4096):
        with pytest.raises(CsvSyntaxError) as caught:
            read(data, size)
        assert caught.value.line == PAD_LINES + 1


def test_header_longer_than_a_chunk() -> None:
    header = ";".join(f"column {n}" for n in range(1000))
    records = read(f"{header}\n1;2\n".encode(), size=1000)
    assert records == [(1, header.split(";")), (2, ["1", "2"])]


def test_a_line_that_never_ends_is_refused() -> None:
    with pytest.raises(CsvSyntaxError) as caught:
        read(b"a," * 10_000, size=20, max_field_chars=10)
    assert caught.value.line == 1


# -- chunking --------------------------------------------------------------------------------

MIXED = (
    PAD
    + 'A-1,"x, y"\r\n'
    + 'A-2,"say ""hi""\r\nthen\rgo"\n'
    + "\r\n,,\n"
    + "A-3,café €😀\r"
    + 'A-4,""\r\n'
    + '"A-5","tail'
    + "\n" * 3
    + 'end"\n'
    + "A-6,last"
)


def test_every_chunk_size_gives_the_same_records() -> None:
    data = MIXED.encode()
    expected = read(data)
    assert after_pad(expected) == [
        (1, ["A-1", "x, y"]),
        (2, ["A-2", 'say "hi"\r\nthen\rgo']),
        (7, ["A-3", "café €😀"]),
        (8, ["A-4", ""]),
        (9, ["A-5", "tail\n\n\nend"]),
        (13, ["A-6", "last"]),
    ]
    for size in (1, 2, 3, 5, 7, 64, 1000, SNIFF_BYTES, SNIFF_BYTES + 1):
        assert read(data, size) == expected, size


def test_bytes_consumed_counts_what_was_fed() -> None:
    reader = RecordReader()
    reader.feed(b"a,b\n")
    reader.feed(b"c,d\n")
    assert reader.bytes_consumed == 8


def _reference(text: str) -> list[Record]:
    """What the rules give for a whole decoded text, the slow and obvious way."""
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[Record] = []
    start = 1
    for row in reader:
        if "".join(row).strip():
            records.append((start, row))
        start = reader.line_num + 1
    return records


def _random_csv(rng: random.Random, rows: int) -> str:
    cells = ["A-1", "", " ", "café €", "x,y", 'say "hi"', "two\r\nlines", "a\rb\nc", "\n", "😀"]
    ends = ["\n", "\r\n", "\r"]
    lines = []
    for _ in range(rows):
        if rng.random() < 0.1:
            lines.append(rng.choice(["", " ", ",,", " , "]) + rng.choice(ends))
            continue
        row = []
        for _ in range(rng.randint(1, 4)):
            cell = rng.choice(cells)
            needs_quotes = any(c in cell for c in ',"\r\n') or rng.random() < 0.2
            row.append('"' + cell.replace('"', '""') + '"' if needs_quotes else cell)
        lines.append(",".join(row) + rng.choice(ends))
    return "".join(lines)


def test_random_files_match_the_reference_in_any_chunking() -> None:
    rng = random.Random(4180)
    for _ in range(20):
        text = PAD + _random_csv(rng, 60)
        if rng.random() < 0.5:
            text = text.rstrip("\r\n")  # no line end after the last record
        expected = _reference(text)
        data = text.encode()
        for size in (0, 1, 2, 3, 17, 1000, 4097):
            assert read(data, size) == expected, (text, size)


# -- blank rows --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [0, 1, 7, 500])
def test_blank_rows_before_the_last_record_are_counted_however_the_file_is_cut(
    size: int,
) -> None:
    # Blank before the header, between rows (one of delimiters and spaces, two around a cell
    # over two lines), none counted after the last record.
    body = '\nid,about\n1,a\n , \n\n2,"b\nc"\n\n3,d\n\n\n'
    data = (PAD + body).encode()
    reader = RecordReader()
    chunk = size or len(data)
    records: list[Record] = []
    for start in range(0, len(data), chunk):
        records += reader.feed(data[start : start + chunk])
    records += reader.finish()
    assert [cells[0] for _, cells in after_pad(records)] == ["id", "1", "2", "3"]
    assert reader.blank_rows == 4
