"""Drop the cases index on (app_id, updated_at, id).

Every change of a case wrote an entry in it: about a tenth of a million-row modify, the
difference between meeting its target and missing it (docs/performance.md). The dashboard's "last changed" sort scans the app's cases instead, as the
date sort does; its default is now the tag, which its unique index serves.

Revision ID: 0014
Revises: 0013
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_cases_app_updated_at", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_app_updated_at", "cases", ["app_id", "updated_at", "id"])
