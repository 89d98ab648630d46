"""Drop the cases index on (app_id, date_opened, id).

Dates in a file come in no order, so every added case inserted at a random place in this
index, which slowed large imports down (docs/performance.md). The dashboard's date filter and
date sort scan the app's cases instead.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_cases_app_date_opened", table_name="cases")


def downgrade() -> None:
    op.create_index("ix_cases_app_date_opened", "cases", ["app_id", "date_opened", "id"])
