"""Workbooks made in the tests with real cell types: XlsxWriter writes .xlsx, and LibreOffice
(``soffice``, when installed) converts it to .xls, .ods and its own .xlsx. ``zip64`` and
``stored`` write a workbook's parts again in the archive layouts few writers choose."""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import xlsxwriter

Cell = str | int | float | bool | date | datetime | None
# Writes one worksheet's cells: (worksheet, workbook) -> None.
Filler = Callable[[Any, Any], None]


def xlsx(sheets: Sequence[tuple[str, Filler]], *, hidden: Sequence[str] = ()) -> bytes:
    """A workbook with these sheets, in this order; ``hidden`` ones hidden."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    made = {name: book.add_worksheet(name) for name, _ in sheets}
    for name, fill in sheets:
        fill(made[name], book)
    visible = [name for name, _ in sheets if name not in hidden]
    if visible:
        made[visible[0]].activate()  # a hidden sheet cannot be the active one
    for name in hidden:
        made[name].hide()
    book.close()
    return out.getvalue()


def rows(values: Sequence[Sequence[Cell]], *, first_row: int = 0) -> Filler:
    """Rows of typed cells from ``first_row`` (0-based) on: dates with a date format, date-times
    with a date-time one, None left empty."""

    def fill(sheet: Any, book: Any) -> None:
        day = book.add_format({"num_format": "mm/dd/yyyy"})
        moment = book.add_format({"num_format": "mm/dd/yyyy hh:mm"})
        for r, row in enumerate(values, start=first_row):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, datetime):
                    sheet.write_datetime(r, c, value, moment)
                elif isinstance(value, date):
                    sheet.write_datetime(r, c, datetime(value.year, value.month, value.day), day)
                elif isinstance(value, bool):
                    sheet.write_boolean(r, c, value)
                elif isinstance(value, int | float):
                    sheet.write_number(r, c, value)
                else:
                    sheet.write_string(r, c, value)

    return fill


def converted(content: bytes, to: str) -> bytes:
    """An .xlsx converted by LibreOffice to ``to`` (``xls``, ``ods`` or ``xlsx``, LibreOffice's
    own); the test is skipped when LibreOffice is not installed."""
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-calc-nogui"
        )
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "book.xlsx"
        source.write_bytes(content)
        out = Path(folder) / "out"  # apart from the source, which may have the same name
        subprocess.run(
            [
                soffice,
                "--headless",
                f"-env:UserInstallation=file://{folder}/profile",
                "--convert-to",
                to,
                "--outdir",
                str(out),
                str(source),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        return (out / f"book.{to}").read_bytes()


def _parts(content: bytes) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [(info.filename, archive.read(info)) for info in archive.infolist()]


def stored(content: bytes) -> bytes:
    """The workbook's archive written again with every part stored, not compressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for name, data in _parts(content):
            archive.writestr(name, data)
    return out.getvalue()


def zip64(content: bytes) -> bytes:
    """The workbook's archive written again as zip64 throughout: every size and offset in a zip64
    extra field (the headers hold 0xFFFFFFFF), the directory found through the zip64 end record,
    as a writer does for a workbook past 4 GiB."""
    out = io.BytesIO()
    directory = []
    parts = _parts(content)
    for name, data in parts:
        packer = zlib.compressobj(6, zlib.DEFLATED, -15)
        packed = packer.compress(data) + packer.flush()
        crc, raw, offset = zlib.crc32(data), name.encode(), out.tell()
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(packed))
        header = (0x04034B50, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(raw), len(extra))
        out.write(struct.pack("<IHHHHHIIIHH", *header) + raw + extra + packed)
        extra = struct.pack("<HHQQQ", 1, 24, len(data), len(packed), offset)
        entry = (0x02014B50, 45, 45, 0, 8, 0, 0x21, crc, 0xFFFFFFFF, 0xFFFFFFFF, len(raw))
        # extra field's length, comment's length, disk, attributes, the header's offset
        rest = struct.pack("<HHHHII", len(extra), 0, 0, 0, 0, 0xFFFFFFFF)
        directory.append(struct.pack("<IHHHHHHIIIH", *entry) + rest + raw + extra)
    start = out.tell()
    listed = b"".join(directory)
    out.write(listed)
    end = out.tell()
    count = len(parts)
    out.write(
        struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, len(listed), start)
    )
    out.write(struct.pack("<IIQI", 0x07064B50, 0, end, 1))
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))
    return out.getvalue()
