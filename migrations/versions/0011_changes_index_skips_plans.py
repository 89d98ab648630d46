"""A case's history index leaves out the rows that name no case: a check-only run's planned
creates (one per line of a large add) cost an index entry each and were never looked up.

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _index(where: str) -> None:
    op.create_index(
        "ix_import_changes_case", "import_changes", ["case_id"], postgresql_where=sa.text(where)
    )


def upgrade() -> None:
    op.drop_index("ix_import_changes_case", table_name="import_changes")
    _index("case_id IS NOT NULL AND action IN (1, 2, 5)")


def downgrade() -> None:
    op.drop_index("ix_import_changes_case", table_name="import_changes")
    _index("action IN (1, 2, 5)")
