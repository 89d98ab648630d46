"""The corpus: case files made the way users make theirs.

A workbook is typed with real cell types (``tag_id`` text, ``case_status`` the numbers 0 and 1
or words, ``date_opened`` date cells in a date format of a locale, ``about`` text in several
Western languages, with a line break inside a cell, a comma, a semicolon, double quotes and
formula-like text). It is written as a flat OpenDocument spreadsheet (``.fods``, plain XML
made here), one per date format. LibreOffice (``soffice --headless --convert-to``) then saves
each as CSV in every Western character set and every separator its CSV filter offers, and as
``.xlsx``, ``.ods`` and ``.xls`` workbooks. A test imports each file and compares what is
stored, cell by cell, with ``ROWS``.

    python -m tests.corpus.make /tmp/corpus      # writes the files there and lists them

The CSV filter's options are five to twelve comma-separated tokens (LibreOffice Help, "CSV
Filter Options"): 1 the field separator as an ASCII code (44 comma, 59 semicolon, 9 tab), 2 the
text delimiter (34, the double quote), 3 the character set (the index of "Character Set Codes":
1 Windows-1252/WinLatin 1, 2 Apple Macintosh (Western), 4 DOS/OS2-850/International, 12
ISO-8859-1, 22 ISO-8859-15/EURO, 76 UTF-8, 65535 Unicode UCS2, which LibreOffice writes as
UTF-16 little-endian with a byte-order mark), 4 the first line (1), 5 the column formats
(import only, empty), 6 the language (0: the user interface's), 7 "Quote all text cells", 8
numbers as numbers, 9 "Save cell contents as shown" (so that a date cell is written in its
format). ``check_export`` verifies every file's bytes against these tokens.

soffice takes one set of filter options a run, but any number of input files: one run per
character set and separator converts the workbooks of every date format at once, and the runs
go side by side, each with a user profile of its own.
"""

from __future__ import annotations

import argparse
import itertools
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

HEADER = ("tag_id", "case_status", "date_opened", "about")
STATUS_CODES = {"0": 0, "1": 1, "closed": 0, "active": 1}


@dataclass(frozen=True, slots=True)
class Row:
    """One row as typed into the workbook."""

    tag_id: str  # a text cell
    status: int | str  # an int is a number cell; a str is a word typed in a text cell
    opened: date  # a date cell
    about: str  # a text cell; "\n" is a line break in the cell (Alt+Enter in Excel)

    @property
    def case_status(self) -> int:
        """What the service stores for the status cell."""
        return STATUS_CODES[str(self.status).lower()]


ROWS: tuple[Row, ...] = (
    Row("ES-1", 1, date(2023, 11, 28), "Año nuevo: reclamación por daños en la cañería"),
    Row("FR-2", 0, date(2024, 2, 1), "Facture impayée, élève très déçu à Besançon"),
    Row("DE-3", "active", date(2024, 1, 13), "Straße gesperrt; Überschwemmung, Schäden groß"),
    Row("PT-4", "Closed", date(2023, 7, 4), "Iluminação pública apagada, põe a rua às escuras"),
    Row("NO-5", 1, date(2024, 10, 31), "Blåbær på Ærø og ødelagt bro i Tromsø"),
    Row("EU-6", 0, date(2024, 3, 7), 'Rechnung über 40 € offen: "dringend"'),
    Row("OE-7", "ACTIVE", date(2023, 12, 25), "Œuvres volées, le cœur de l'enquête"),
    Row("LB-8", 1, date(2024, 5, 6), "Erste Zeile\nzweite Zeile: Zürich"),
    Row("FX-9", 0, date(2024, 6, 15), "=1+1"),
    Row("00417", 1, date(2024, 4, 1), "+33 1 42 68 53 00 rappeler"),
)

# A modify file typed in a workbook: blank cells keep the stored values. The blank cells at the
# ends of rows are the ones some programs drop with their delimiters.
CHANGES: tuple[tuple[str, int | str | None, date | None, str | None], ...] = (
    ("ES-1", 0, None, None),
    ("FR-2", None, date(2024, 2, 2), None),
    ("DE-3", "closed", None, "Straße wieder frei, Köln"),
    ("PT-4", None, None, None),
    ("NO-5", None, None, "Brua på Ærø er reparert; «ferdig»"),
)


def physical_lines(rows: Iterable[Row] = ROWS, first: int = 2) -> list[int]:
    """The line each row starts on in a CSV export whose header is on line ``first - 1``."""
    lines = []
    line = first
    for row in rows:
        lines.append(line)
        line += 1 + row.about.count("\n")
    return lines


@dataclass(frozen=True, slots=True)
class DateStyle:
    """A date format of a locale, as set on the date cells (Format Cells → Date)."""

    key: str
    pattern: str  # as LibreOffice's Format Cells dialog shows it
    language: str
    country: str
    xml: str  # the children of <number:date-style>

    def shown(self, day: date) -> str:
        """The date as LibreOffice writes it with "Save cell contents as shown"."""
        p = self.pattern
        if p == "MMM D, YYYY":
            return f"{day:%b} {day.day}, {day.year}"
        return (
            p.replace("YYYY", f"{day.year:04d}")
            .replace("YY", f"{day.year % 100:02d}")
            .replace("MM", f"{day.month:02d}")
            .replace("DD", f"{day.day:02d}")
        )


def _parts(*parts: str) -> str:
    out = []
    for part in parts:
        if part in {"DD", "D"}:
            style = ' number:style="long"' if part == "DD" else ""
            out.append(f"<number:day{style}/>")
        elif part == "MM":
            out.append('<number:month number:style="long"/>')
        elif part == "MMM":
            out.append('<number:month number:textual="true"/>')
        elif part in {"YYYY", "YY"}:
            style = ' number:style="long"' if part == "YYYY" else ""
            out.append(f"<number:year{style}/>")
        else:
            out.append(f"<number:text>{escape(part)}</number:text>")
    return "".join(out)


DATE_STYLES: tuple[DateStyle, ...] = (
    # The US habit, month first, four-digit year.
    DateStyle("us", "MM/DD/YYYY", "en", "US", _parts("MM", "/", "DD", "/", "YYYY")),
    # LibreOffice's own default for a date typed in the US locale: a two-digit year.
    DateStyle("us-yy", "MM/DD/YY", "en", "US", _parts("MM", "/", "DD", "/", "YY")),
    # A month name, US style (it holds a comma).
    DateStyle("us-mmm", "MMM D, YYYY", "en", "US", _parts("MMM", " ", "D", ", ", "YYYY")),
    # The UK habit, day first.
    DateStyle("uk", "DD/MM/YYYY", "en", "GB", _parts("DD", "/", "MM", "/", "YYYY")),
    # The German habit, dotted (day first everywhere), and its default with a two-digit year.
    DateStyle("de", "DD.MM.YYYY", "de", "DE", _parts("DD", ".", "MM", ".", "YYYY")),
    DateStyle("de-yy", "DD.MM.YY", "de", "DE", _parts("DD", ".", "MM", ".", "YY")),
    # ISO 8601.
    DateStyle("iso", "YYYY-MM-DD", "en", "US", _parts("YYYY", "-", "MM", "-", "DD")),
)
STYLES = {style.key: style for style in DATE_STYLES}


@dataclass(frozen=True, slots=True)
class Charset:
    """A character set of LibreOffice's CSV export, as its Export Text File dialog names it."""

    key: str
    label: str
    token: int
    # How Python reads the bytes LibreOffice writes. LibreOffice's "DOS/OS2-850" puts the euro
    # sign at 0xD5, as IBM 858 does (IBM 850 has a dotless i there): Python's cp858.
    codec: str

    def carry(self, text: str) -> str:
        """``text`` as the exported file holds it: a character the set lacks becomes "?", as
        LibreOffice writes it."""
        if self.codec.startswith("utf"):
            return text
        return text.encode(self.codec, errors="replace").decode(self.codec)


CHARSETS: tuple[Charset, ...] = (
    Charset("utf-8", "Unicode (UTF-8)", 76, "utf-8"),
    Charset("utf-16", "Unicode (UTF-16)", 65535, "utf-16"),
    Charset("cp1252", "Western Europe (Windows-1252/WinLatin 1)", 1, "cp1252"),
    Charset("mac-roman", "Western Europe (Apple Macintosh)", 2, "mac-roman"),
    Charset("ibm850", "Western Europe (DOS/OS2-850/International)", 4, "cp858"),
    Charset("iso8859-15", "Western Europe (ISO-8859-15/EURO)", 22, "iso8859-15"),
    Charset("iso8859-1", "Western Europe (ISO-8859-1)", 12, "latin-1"),
)
CHARSET = {c.key: c for c in CHARSETS}


@dataclass(frozen=True, slots=True)
class Separator:
    key: str
    char: str

    @property
    def token(self) -> int:
        return ord(self.char)


SEPARATORS: tuple[Separator, ...] = (
    Separator("comma", ","),
    Separator("semicolon", ";"),
    Separator("tab", "\t"),
)
SEPARATOR = {s.key: s for s in SEPARATORS}


@dataclass(frozen=True, slots=True)
class Export:
    """One CSV file saved by LibreOffice from the workbook of one date style."""

    charset: Charset
    separator: Separator
    style: DateStyle
    quote_all: bool = False  # the dialog's "Quote all text cells"

    @property
    def name(self) -> str:
        quoted = "-quoted" if self.quote_all else ""
        return f"cases-{self.style.key}-{self.charset.key}-{self.separator.key}{quoted}.csv"

    @property
    def filter_options(self) -> str:
        quote = "true" if self.quote_all else "false"
        return f"{self.separator.token},34,{self.charset.token},1,,0,{quote},true,true"


EXPORTS: tuple[Export, ...] = tuple(
    Export(charset, separator, style)
    for charset, separator, style in itertools.product(CHARSETS, SEPARATORS, DATE_STYLES)
) + tuple(Export(CHARSET["utf-8"], SEPARATOR["comma"], style, True) for style in DATE_STYLES)

# Workbooks saved by LibreOffice from the same flat ODS, by extension and soffice's target.
WORKBOOK_FORMATS = ("xlsx", "ods", "xls")


@dataclass(frozen=True, slots=True)
class Workbook:
    format: str
    style: DateStyle

    @property
    def name(self) -> str:
        return f"cases-{self.style.key}.{self.format}"


WORKBOOKS: tuple[Workbook, ...] = tuple(
    Workbook(fmt, style) for fmt, style in itertools.product(WORKBOOK_FORMATS, DATE_STYLES)
)

CHANGES_STYLE = STYLES["us"]


def changes_export(charset: Charset, separator: Separator) -> str:
    return f"changes-{charset.key}-{separator.key}.csv"


# ---------------------------------------------------------------------------------------------
# The workbook as flat OpenDocument XML


def _text_cell(text: str) -> str:
    # Runs of spaces, and spaces at the ends, would need <text:s/>: the corpus has none.
    assert "  " not in text, text
    assert text == text.strip(), text
    paragraphs = "".join(f"<text:p>{escape(line)}</text:p>" for line in text.split("\n"))
    return f'<table:table-cell office:value-type="string">{paragraphs}</table:table-cell>'


def _number_cell(value: int) -> str:
    return (
        f'<table:table-cell office:value-type="float" office:value="{value}">'
        f"<text:p>{value}</text:p></table:table-cell>"
    )


def _date_cell(day: date) -> str:
    return (
        '<table:table-cell table:style-name="ceDate" office:value-type="date" '
        f'office:date-value="{day.isoformat()}"/>'
    )


def _cell(value: int | str | date | None) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, date):
        return _date_cell(value)
    if isinstance(value, int):
        return _number_cell(value)
    return _text_cell(value)


def flat_ods(style: DateStyle, rows: Iterable[Iterable[int | str | date | None]]) -> str:
    """A one-sheet flat ODS document; its date cells are formatted in ``style``."""
    body = "".join(
        "<table:table-row>" + "".join(_cell(v) for v in row) + "</table:table-row>\n"
        for row in [HEADER, *rows]
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<office:document xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"
 xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0"
 xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"
 xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"
 xmlns:number="urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0"
 office:version="1.3" office:mimetype="application/vnd.oasis.opendocument.spreadsheet">
<office:automatic-styles>
<number:date-style style:name="NDate" number:language="{style.language}"
 number:country="{style.country}">{style.xml}</number:date-style>
<style:style style:name="ceDate" style:family="table-cell" style:data-style-name="NDate"/>
</office:automatic-styles>
<office:body><office:spreadsheet><table:table table:name="Cases">
<table:table-column table:number-columns-repeated="4"/>
{body}</table:table></office:spreadsheet></office:body></office:document>
"""


def cases_workbook(style: DateStyle) -> str:
    return flat_ods(style, [(r.tag_id, r.status, r.opened, r.about) for r in ROWS])


def changes_workbook() -> str:
    return flat_ods(CHANGES_STYLE, CHANGES)


# ---------------------------------------------------------------------------------------------
# LibreOffice


def soffice() -> str | None:
    return shutil.which("soffice")


class ExportFailed(RuntimeError):
    pass


def _run_soffice(binary: str, profile: Path, target: str, outdir: Path, inputs: list[Path]) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    command = [
        binary,
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        "--convert-to",
        target,
        "--outdir",
        str(outdir),
        *map(str, inputs),
    ]
    # A fixed program with arguments made here: no shell, nothing from outside. A run takes a
    # second or two; one that hangs fails here, before the test's own timeout.
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    except subprocess.TimeoutExpired as timeout:
        raise ExportFailed(f"soffice --convert-to {target!r} did not finish: {timeout}") from None
    suffix = "." + target.split(":", 1)[0]
    missing = [p.name for p in inputs if not (outdir / p.with_suffix(suffix).name).exists()]
    if done.returncode != 0 or missing:
        raise ExportFailed(
            f"soffice --convert-to {target!r} failed (exit {done.returncode}; missing "
            f"{missing}):\n{done.stdout}\n{done.stderr}"
        )


def generate(directory: Path, binary: str, jobs: int | None = None) -> Path:
    """Write the typed workbooks (in ``typed/``) and every file LibreOffice saves from them into
    ``directory``, each by its ``name``. Answers ``directory``."""
    typed = directory / "typed"
    typed.mkdir(parents=True, exist_ok=True)
    cases = {}
    for style in DATE_STYLES:
        cases[style.key] = typed / f"cases-{style.key}.fods"
        cases[style.key].write_text(cases_workbook(style), encoding="utf-8")
    changes = typed / "changes.fods"
    changes.write_text(changes_workbook(), encoding="utf-8")

    # One soffice run per set of options: (its target, its inputs, {file it writes: name}).
    runs: dict[str, tuple[list[Path], dict[str, str]]] = {}
    for export in EXPORTS:
        target = f"csv:Text - txt - csv (StarCalc):{export.filter_options}"
        inputs, names = runs.setdefault(target, ([], {}))
        inputs.append(cases[export.style.key])
        names[f"cases-{export.style.key}.csv"] = export.name
        if export.style is CHANGES_STYLE and not export.quote_all:
            inputs.append(changes)
            names["changes.csv"] = changes_export(export.charset, export.separator)
    for workbook in WORKBOOKS:
        inputs, names = runs.setdefault(workbook.format, ([], {}))
        inputs.append(cases[workbook.style.key])
        names[workbook.name] = workbook.name

    workers = jobs or max(2, min(4, os.cpu_count() or 2))
    profiles: queue.Queue[Path] = queue.Queue()
    for n in range(workers):
        profiles.put(directory / "profiles" / str(n))

    def run(n: int, target: str) -> None:
        inputs, names = runs[target]
        outdir = directory / "runs" / str(n)
        profile = profiles.get()
        try:
            _run_soffice(binary, profile, target, outdir, inputs)
        finally:
            profiles.put(profile)
        for written, name in names.items():
            (outdir / written).replace(directory / name)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, range(len(runs)), runs))
    # The profiles are most of the bytes; the files themselves are a few hundred bytes each.
    shutil.rmtree(directory / "profiles")
    shutil.rmtree(directory / "runs")
    return directory


# ---------------------------------------------------------------------------------------------
# What an export must hold


def csv_cell(text: str, separator: Separator, quote_all: bool = False) -> str:
    """A text cell as LibreOffice writes it: in double quotes (doubled inside) when it holds
    the separator, a double quote or a line break, or when all text cells are quoted."""
    if quote_all or any(c in text for c in (separator.char, '"', "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def expected_text(export: Export) -> str:
    """The whole file, as the options say LibreOffice writes it (before encoding)."""
    sep, quote_all = export.separator, export.quote_all

    def line(cells: Iterable[str | int]) -> str:
        return sep.char.join(
            str(c) if isinstance(c, int) else csv_cell(c, sep, quote_all) for c in cells
        )

    lines = [line(HEADER)]
    for row in ROWS:
        # A date cell is written as shown, quoted only when it must be (never as text).
        date_cell = csv_cell(export.style.shown(row.opened), sep)
        status = row.status if isinstance(row.status, int) else csv_cell(row.status, sep, quote_all)
        about = csv_cell(export.charset.carry(row.about), sep, quote_all)
        lines.append(
            sep.char.join([csv_cell(row.tag_id, sep, quote_all), str(status), date_cell, about])
        )
    return "\n".join(lines) + "\n"


def check_export(export: Export, content: bytes) -> None:
    """The bytes are what the filter options ask for: the character set (a UTF-16 file starts
    with its byte-order mark, a UTF-8 one has none), the separator, the date format shown, the
    quoting; a character the set lacks is "?"."""
    codec = export.charset.codec
    if codec == "utf-16":
        if not content.startswith(b"\xff\xfe"):
            raise ExportFailed(f"{export.name}: no UTF-16 little-endian byte-order mark")
    elif content.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        raise ExportFailed(f"{export.name}: an unexpected byte-order mark")
    text = content.decode(codec)
    expected = expected_text(export)
    if text != expected:
        raise ExportFailed(f"{export.name}: LibreOffice wrote\n{text!r}\nnot\n{expected!r}")


# ---------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path, nargs="?")
    args = parser.parse_args(argv)
    binary = soffice()
    if binary is None:
        print("soffice is missing: run scripts/ensure-libreoffice", file=sys.stderr)
        return 1
    directory: Path = args.directory or Path(tempfile.mkdtemp(prefix="corpus-"))
    started = time.monotonic()
    generate(directory, binary)
    elapsed = time.monotonic() - started
    for export in EXPORTS:
        check_export(export, (directory / export.name).read_bytes())
    for path in sorted(p for p in directory.iterdir() if p.is_file()):
        print(f"{path.stat().st_size:6d}  {path}")
    print(f"generated in {elapsed:.1f} s; every CSV file checked", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
