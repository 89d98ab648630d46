"""How an import reads its file, and what the reading found.

``date_order`` decides how slash dates read (month first by default) and ``encoding``, when
given, names the file's encoding instead of the service deciding it; ``file_encoding`` and
``file_delimiter`` are what the worker read the file with, and ``warnings`` what the user
should confirm about an import that went through (``dates_ambiguous`` and the like).

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "imports",
        sa.Column("date_order", sa.String(length=3), server_default="mdy", nullable=False),
    )
    op.create_check_constraint("date_order", "imports", "date_order IN ('mdy', 'dmy')")
    op.add_column("imports", sa.Column("encoding", sa.String(length=32), nullable=True))
    op.add_column("imports", sa.Column("file_encoding", sa.String(length=32), nullable=True))
    op.add_column("imports", sa.Column("file_delimiter", sa.String(length=4), nullable=True))
    op.add_column("imports", sa.Column("warnings", postgresql.JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column("imports", "warnings")
    op.drop_column("imports", "file_delimiter")
    op.drop_column("imports", "file_encoding")
    op.drop_column("imports", "encoding")
    op.drop_constraint("ck_imports_date_order", "imports")
    op.drop_column("imports", "date_order")
