"""The audit log: who did what, when, from which address and through which token.

One row per sign-in (and failed sign-in), token created or revoked, app created, role granted,
and import created, cancelled, given a file, applied, reverted or corrected. ``app_id`` is null
for what belongs to no app (sign-ins); ``actor_id`` and ``address`` are null for the command
line. No foreign keys: an event outlives what it names, and keeps its email and token prefix.

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("app_id", sa.Uuid(), nullable=True),
        sa.Column("actor_id", sa.Uuid(), nullable=True),
        sa.Column("actor_email", sa.Text(), nullable=True),
        sa.Column("token_id", sa.Uuid(), nullable=True),
        sa.Column("token_prefix", sa.String(length=16), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column(
            "details",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    # An app's log, newest first.
    op.create_index(
        "ix_audit_events_app_id_id", "audit_events", ["app_id", sa.text("id DESC")], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_audit_events_app_id_id", table_name="audit_events")
    op.drop_table("audit_events")
