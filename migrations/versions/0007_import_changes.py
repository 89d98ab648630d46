"""What each row of an import did: plans that can be applied exactly, reverts, case history.

``import_changes`` holds a row per line of an import that checks or applies rows (creates of a
check-only run, updates with their before-images, unchanged and failed rows, a revert's
deletions). A case an applied import creates carries the line instead (``cases.created_line``),
and the import the range of case ids its write took (``imports.created_ids``): a second row, or
an index, per created case would cost a large add too much. ``imports.plan_id`` links
an applied plan to the check-only import it applies, ``imports.revert_of`` a revert to the
import it takes back.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "import_changes",
        sa.Column("import_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("line", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.SmallInteger(), nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=True),
        sa.Column("tag_id", sa.Text(), nullable=True),
        sa.Column("tag_key", sa.Text(), nullable=True),
        sa.Column("about_key", sa.Text(), nullable=True),
        sa.Column("case_status", sa.SmallInteger(), nullable=True),
        sa.Column("date_opened", sa.Date(), nullable=True),
        sa.Column("about", sa.Text(), nullable=True),
        sa.Column("old_case_status", sa.SmallInteger(), nullable=True),
        sa.Column("old_date_opened", sa.Date(), nullable=True),
        sa.Column("old_about", sa.Text(), nullable=True),
        sa.Column("old_about_key", sa.Text(), nullable=True),
        sa.CheckConstraint("action IN (1, 2, 3, 4, 5)", name=op.f("ck_import_changes_action")),
        sa.PrimaryKeyConstraint("import_id", "line", name=op.f("pk_import_changes")),
    )
    op.create_index(
        "ix_import_changes_case",
        "import_changes",
        ["case_id"],
        postgresql_where=sa.text("action IN (1, 2, 5)"),
    )
    op.add_column("cases", sa.Column("created_line", sa.BigInteger(), nullable=True))
    op.add_column("imports", sa.Column("plan_id", postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column("imports", sa.Column("revert_of", postgresql.UUID(as_uuid=True), nullable=True))
    op.add_column("imports", sa.Column("created_ids", postgresql.INT8RANGE(), nullable=True))
    op.create_foreign_key(
        op.f("fk_imports_plan_id_imports"), "imports", "imports", ["plan_id"], ["id"]
    )
    op.create_foreign_key(
        op.f("fk_imports_revert_of_imports"), "imports", "imports", ["revert_of"], ["id"]
    )
    op.create_unique_constraint(op.f("uq_imports_plan_id"), "imports", ["plan_id"])
    op.create_index(op.f("ix_imports_revert_of"), "imports", ["revert_of"])


def downgrade() -> None:
    op.drop_index(op.f("ix_imports_revert_of"), table_name="imports")
    op.drop_constraint(op.f("uq_imports_plan_id"), "imports", type_="unique")
    op.drop_constraint(op.f("fk_imports_revert_of_imports"), "imports", type_="foreignkey")
    op.drop_constraint(op.f("fk_imports_plan_id_imports"), "imports", type_="foreignkey")
    op.drop_column("imports", "created_ids")
    op.drop_column("imports", "revert_of")
    op.drop_column("imports", "plan_id")
    op.drop_column("cases", "created_line")
    op.drop_index("ix_import_changes_case", table_name="import_changes")
    op.drop_table("import_changes")
