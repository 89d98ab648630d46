"""Checking a plan's stored file again: ``imports.checks_again`` links a new check-only import
to the import whose file it checks again, and that file becomes the new import's first file too
(and an applied plan's import lists its plan's file): ``import_files.file_id`` is no longer
unique (a stored file is shared, never copied). A downgrade leaves a shared file to the import it
was uploaded to: run it with no check again unfinished.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("imports", sa.Column("checks_again", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_imports_checks_again_imports"), "imports", "imports", ["checks_again"], ["id"]
    )
    op.create_index(op.f("ix_imports_checks_again"), "imports", ["checks_again"])
    op.drop_constraint(op.f("uq_import_files_file_id"), "import_files", type_="unique")
    op.create_index(op.f("ix_import_files_file_id"), "import_files", ["file_id"])
    # Applied plans made before this revision list their plan's file too, as new ones do.
    op.execute(
        """INSERT INTO import_files (import_id, n, file_id, attached_at)
           SELECT i.id, 1, i.file_id, i.created_at FROM imports AS i
           WHERE i.plan_id IS NOT NULL AND i.file_id IS NOT NULL
             AND NOT EXISTS (SELECT 1 FROM import_files AS f WHERE f.import_id = i.id)"""
    )


def downgrade() -> None:
    # A shared file stays the file of the import it was uploaded to (its first holder).
    op.execute(
        """DELETE FROM import_files AS i USING import_files AS first
           WHERE first.file_id = i.file_id
             AND (first.attached_at, first.import_id) < (i.attached_at, i.import_id)"""
    )
    op.drop_index(op.f("ix_import_files_file_id"), table_name="import_files")
    op.create_unique_constraint(op.f("uq_import_files_file_id"), "import_files", ["file_id"])
    op.drop_index(op.f("ix_imports_checks_again"), table_name="imports")
    op.drop_constraint(op.f("fk_imports_checks_again_imports"), "imports", type_="foreignkey")
    op.drop_column("imports", "checks_again")
