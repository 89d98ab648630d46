"""Case comparison keys become plain columns, written with each row.

``tag_key`` and ``about_key`` were generated columns (PostgreSQL's ``lower`` and a regular
expression), computed by PostgreSQL in the part of an add that waits on the database
(docs/performance.md). The worker now writes them, computed by
``api/cases/keys.py``; the unique constraints on them are unchanged. Existing rows keep the
keys PostgreSQL computed (the same folding, for the text the rules allow).

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TAG_KEY_SQL = "lower(tag_id)"
_ABOUT_KEY_SQL = r"lower(regexp_replace(btrim(about), '\s+', ' ', 'g'))"


def upgrade() -> None:
    op.execute("ALTER TABLE cases ALTER COLUMN tag_key DROP EXPRESSION")
    op.execute("ALTER TABLE cases ALTER COLUMN about_key DROP EXPRESSION")


def downgrade() -> None:
    # A column cannot become generated again in place: rebuild both, with their constraints.
    op.drop_constraint("uq_cases_app_about_key", "cases")
    op.drop_constraint("uq_cases_app_tag_key", "cases")
    op.drop_column("cases", "about_key")
    op.drop_column("cases", "tag_key")
    op.execute(
        f"ALTER TABLE cases ADD COLUMN tag_key text "
        f"GENERATED ALWAYS AS ({_TAG_KEY_SQL}) STORED NOT NULL"
    )
    op.execute(
        f"ALTER TABLE cases ADD COLUMN about_key text "
        f"GENERATED ALWAYS AS ({_ABOUT_KEY_SQL}) STORED NOT NULL"
    )
    op.create_unique_constraint("uq_cases_app_tag_key", "cases", ["app_id", "tag_key"])
    op.execute(
        "ALTER TABLE cases ADD CONSTRAINT uq_cases_app_about_key UNIQUE (app_id, about_key) "
        "DEFERRABLE INITIALLY IMMEDIATE"
    )
