"""Workbooks: the sheet an import reads, and the format the worker read its file as.

``sheet`` names a workbook's sheet (None: the first visible one); ``file_format`` is ``csv``,
``xlsx``, ``xls`` or ``ods``, written with ``file_encoding`` and ``file_delimiter`` (both null
for a workbook). Imports read before this revision were CSV files.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("imports", sa.Column("sheet", sa.String(length=255), nullable=True))
    op.add_column("imports", sa.Column("file_format", sa.String(length=8), nullable=True))
    op.create_check_constraint(
        "file_format", "imports", "file_format IN ('csv', 'xlsx', 'xls', 'ods')"
    )
    op.execute("UPDATE imports SET file_format = 'csv' WHERE file_encoding IS NOT NULL")


def downgrade() -> None:
    op.drop_constraint("ck_imports_file_format", "imports")
    op.drop_column("imports", "file_format")
    op.drop_column("imports", "sheet")
