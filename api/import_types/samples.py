"""Sample files: the header of a type and example rows, as a spreadsheet would save them."""

from __future__ import annotations

import csv
import io

from api.import_types.base import ImportType


def sample_csv(import_type: ImportType) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.name for column in import_type.columns])
    writer.writerows(import_type.sample_rows)
    return out.getvalue()


def sample_filename(import_type: ImportType) -> str:
    return f"{import_type.key.replace('.', '-')}-sample.csv"
