"""Column mapping: an import's ``columns`` (a file's header text -> the column it fills, or null
to ignore it), and the mapping last used for each app and import type.

Revision ID: 0010
Revises: 0009
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "imports", sa.Column("columns", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.create_table(
        "column_mappings",
        sa.Column("app_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("columns", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["app_id"],
            ["apps.id"],
            name=op.f("fk_column_mappings_app_id_apps"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("app_id", "type", name=op.f("pk_column_mappings")),
    )


def downgrade() -> None:
    op.drop_table("column_mappings")
    op.drop_column("imports", "columns")
