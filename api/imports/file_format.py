"""The kinds of file an import can hold, as the worker tells them apart by content."""

from __future__ import annotations

from enum import StrEnum


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"  # .xlsx and .xlsm
    XLS = "xls"
    ODS = "ods"


FILE_FORMATS = "(" + ", ".join(f"'{f.value}'" for f in FileFormat) + ")"
