"""Errors counted apart from the rows they are on, errors grouped, and every file kept.

``imports.error_count`` counted rows with errors until this revision; it now counts errors and
``error_rows`` the rows. For the imports finished before, ``error_rows`` takes the old count
(0 for a file-level failure, which has no rows), ``error_count`` the larger of it and the errors
kept, and ``error_groups`` is made from the kept errors: the best that is known of them.

``import_files`` lists the files an import was given (a corrected file no longer deletes the
one before); the files that imports hold today become their first. ``files.purged_at`` says
when a file's chunks were deleted past the retention time.

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("imports", sa.Column("error_rows", sa.BigInteger(), nullable=True))
    op.add_column(
        "imports",
        sa.Column("error_groups", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.execute(
        """UPDATE imports SET error_rows = CASE WHEN result IS NULL THEN 0 ELSE error_count END
           WHERE error_count IS NOT NULL"""
    )
    op.execute(
        """UPDATE imports SET error_count = greatest(imports.error_count, kept.n)
           FROM (SELECT import_id, count(*) AS n FROM import_errors GROUP BY import_id) AS kept
           WHERE kept.import_id = imports.id"""
    )
    op.execute(
        """UPDATE imports SET error_groups = grouped.groups
           FROM (
               SELECT import_id, jsonb_agg(jsonb_build_object(
                          'code', code, 'column', col, 'count', n, 'first_line', line,
                          'message', message) ORDER BY n DESC, line NULLS FIRST, code, col)
                      AS groups
               FROM (SELECT DISTINCT ON (import_id, code, "column")
                            import_id, code, "column" AS col, line, message,
                            count(*) OVER (PARTITION BY import_id, code, "column") AS n
                     FROM import_errors ORDER BY import_id, code, "column", seq) AS firsts
               GROUP BY import_id) AS grouped
           WHERE grouped.import_id = imports.id"""
    )

    op.add_column("files", sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_files_unpurged",
        "files",
        ["created_at"],
        unique=False,
        postgresql_where="purged_at IS NULL",
    )
    op.create_table(
        "import_files",
        sa.Column("import_id", sa.Uuid(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Uuid(), nullable=False),
        sa.Column(
            "attached_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("error_count", sa.BigInteger(), nullable=True),
        sa.Column("error_rows", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["files.id"],
            name=op.f("fk_import_files_file_id_files"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["imports.id"],
            name=op.f("fk_import_files_import_id_imports"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("import_id", "n", name=op.f("pk_import_files")),
        sa.UniqueConstraint("file_id", name=op.f("uq_import_files_file_id")),
    )
    op.execute(
        """INSERT INTO import_files (import_id, n, file_id, attached_at)
           SELECT imports.id, 1, imports.file_id, files.created_at
           FROM imports JOIN files ON files.id = imports.file_id
           -- An applied plan's import carries its plan's file: the plan holds it (0013 lists
           -- it for the apply too).
           WHERE imports.plan_id IS NULL"""
    )


def downgrade() -> None:
    # Files kept beside the current ones are deleted: before this revision nothing held them.
    op.execute(
        """DELETE FROM files WHERE id IN (
               SELECT file_id FROM import_files
               EXCEPT SELECT file_id FROM imports WHERE file_id IS NOT NULL)"""
    )
    op.drop_table("import_files")
    op.drop_index("ix_files_unpurged", table_name="files", postgresql_where="purged_at IS NULL")
    op.drop_column("files", "purged_at")
    # A file-level failure's count was its errors, as it is now.
    op.execute(
        "UPDATE imports SET error_count = error_rows WHERE error_rows IS NOT NULL"
        " AND result IS NOT NULL"
    )
    op.drop_column("imports", "error_groups")
    op.drop_column("imports", "error_rows")
