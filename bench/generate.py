"""Deterministic case files: a valid add file, a modify of the same cases, an all-invalid one,
and the add file's rows as an Excel workbook.

Rows look like an admin's export (``CASE-0000042,1,07/14/2019,Pothole on Oak Ave #42``, about
54 bytes a row). The same seed and row count always give the same bytes, so a file is
generated once into the data folder and reused by later runs.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

import xlsxwriter

# Bump when the content of a file changes, so cached files are not reused.
VERSION = 2
ADD_HEADER = "tag_id,case_status,date_opened,about\n"
MODIFY_HEADER = "tag_id,case_status,about\n"
# Every row of the invalid file breaks two rules: a status that is not 0/1 and a date that does
# not exist (invalid_status, invalid_date). Its tags and abouts are well formed.
INVALID_STATUS = "9"
INVALID_DATE = "02/30/2024"
ERRORS_PER_INVALID_ROW = 2

ISSUES = (
    "Water leak",
    "Noise complaint",
    "Pothole",
    "Light out",
    "Missed pickup",
    "Graffiti",
    "Broken curb",
    "Fallen tree",
    "Blocked drain",
    "Parking",
    "Stray dog",
    "Dumping",
)
PLACES = ("Elm St", "Oak Ave", "Main St", "Pine Rd", "Lake Dr", "Hill Ct", "Maple Ln", "Bay Rd")
WRITE_ROWS = 10_000  # rows joined per write


@dataclass(frozen=True, slots=True)
class CsvFile:
    """A generated file (CSV text, or the workbook of ``xlsx_add_file``)."""

    path: Path
    rows: int
    size_bytes: int
    # Rows whose case_status is 1 (active) once the file is applied.
    active: int

    @property
    def mib(self) -> float:
        return self.size_bytes / 2**20


@dataclass(frozen=True, slots=True)
class Case:
    tag_id: str
    case_status: int
    date_opened: str
    issue: str
    place: str
    number: int

    @property
    def about(self) -> str:
        return f"{self.issue} on {self.place} #{self.number}"


def cases(count: int, prefix: str, seed: int) -> Iterator[Case]:
    """``count`` cases with unique tags and unique abouts; the same arguments, the same cases."""
    rng = random.Random(f"{seed}:{prefix}")
    for number in range(1, count + 1):
        status = rng.randrange(2)
        month, day, year = rng.randint(1, 12), rng.randint(1, 28), rng.randint(2000, 2024)
        yield Case(
            tag_id=f"{prefix}-{number:07d}",
            case_status=status,
            date_opened=f"{month:02d}/{day:02d}/{year}",
            issue=rng.choice(ISSUES),
            place=rng.choice(PLACES),
            number=number,
        )


def add_line(case: Case) -> str:
    return f"{case.tag_id},{case.case_status},{case.date_opened},{case.about}\n"


def modify_line(case: Case) -> str:
    # Every row changes both its status and its about; the new abouts stay unique.
    return f"{case.tag_id},{1 - case.case_status},Follow-up: {case.about}\n"


def invalid_line(case: Case) -> str:
    return f"{case.tag_id},{INVALID_STATUS},{INVALID_DATE},{case.about}\n"


def _write(path: Path, header: str, lines: Iterator[str]) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8", newline="") as out:
        out.write(header)
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= WRITE_ROWS:
                out.write("".join(batch))
                batch.clear()
        out.write("".join(batch))
    tmp.replace(path)  # atomic: a concurrent run never reads half a file


def _cached(path: Path, build: Callable[[], tuple[int, int]]) -> CsvFile:
    """The file at ``path``, built by ``build`` (which returns rows and active) unless a
    complete copy is there already."""
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        known = json.loads(meta.read_text())
        if known.get("size_bytes") == path.stat().st_size:
            return CsvFile(path, known["rows"], known["size_bytes"], known["active"])
    path.parent.mkdir(parents=True, exist_ok=True)
    rows, active = build()
    made = CsvFile(path, rows, path.stat().st_size, active)
    record = {**asdict(made), "path": str(path)}
    meta.write_text(json.dumps(record))
    return made


def _name(kind: str, rows: int, prefix: str, seed: int, extension: str = "csv") -> str:
    return f"v{VERSION}-{kind}-{prefix}-{rows}-s{seed}.{extension}"


def add_file(folder: Path, rows: int, prefix: str, seed: int) -> CsvFile:
    def build() -> tuple[int, int]:
        active = 0

        def lines() -> Iterator[str]:
            nonlocal active
            for case in cases(rows, prefix, seed):
                active += case.case_status
                yield add_line(case)

        _write(path, ADD_HEADER, lines())
        return rows, active

    path = folder / _name("add", rows, prefix, seed)
    return _cached(path, build)


def modify_file(folder: Path, rows: int, prefix: str, seed: int) -> CsvFile:
    """Changes every case of ``add_file`` with the same arguments."""

    def build() -> tuple[int, int]:
        active = 0

        def lines() -> Iterator[str]:
            nonlocal active
            for case in cases(rows, prefix, seed):
                active += 1 - case.case_status
                yield modify_line(case)

        _write(path, MODIFY_HEADER, lines())
        return rows, active

    path = folder / _name("modify", rows, prefix, seed)
    return _cached(path, build)


def invalid_file(folder: Path, rows: int, prefix: str, seed: int) -> CsvFile:
    def build() -> tuple[int, int]:
        _write(path, ADD_HEADER, (invalid_line(c) for c in cases(rows, prefix, seed)))
        return rows, 0

    path = folder / _name("invalid", rows, prefix, seed)
    return _cached(path, build)


def sized_add_file(folder: Path, max_bytes: int, prefix: str, seed: int) -> CsvFile:
    """A valid add file as large as fits in ``max_bytes`` (header included)."""

    def build() -> tuple[int, int]:
        rows = active = 0
        size = len(ADD_HEADER)

        def lines() -> Iterator[str]:
            nonlocal rows, active, size
            # More cases than can fit; the loop stops at the size limit.
            for case in cases(max_bytes // 40 + 1, prefix, seed):
                line = add_line(case)
                size += len(line)  # ASCII: characters are bytes
                if size > max_bytes:
                    return
                rows += 1
                active += case.case_status
                yield line

        _write(path, ADD_HEADER, lines())
        return rows, active

    path = folder / f"v{VERSION}-sized-{prefix}-{max_bytes}b-s{seed}.csv"
    return _cached(path, build)


def xlsx_add_file(folder: Path, rows: int, prefix: str, seed: int) -> CsvFile:
    """The rows of ``add_file`` with the same arguments as an Excel workbook, as Excel saves
    one: text in the shared strings table, statuses as numbers, dates as date cells."""

    def build() -> tuple[int, int]:
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        book = xlsxwriter.Workbook(str(tmp))
        sheet = book.add_worksheet("Cases")
        day = book.add_format({"num_format": "mm/dd/yyyy"})
        sheet.write_row(0, 0, ADD_HEADER.strip().split(","))
        active = 0
        for row, case in enumerate(cases(rows, prefix, seed), start=1):
            active += case.case_status
            sheet.write_string(row, 0, case.tag_id)
            sheet.write_number(row, 1, case.case_status)
            sheet.write_datetime(row, 2, datetime.strptime(case.date_opened, "%m/%d/%Y"), day)
            sheet.write_string(row, 3, case.about)
        book.close()
        tmp.replace(path)
        return rows, active

    # Its own kind in the name: the cache's record of a file is named after it, less the suffix.
    path = folder / _name("workbook", rows, prefix, seed, "xlsx")
    return _cached(path, build)
