"""Fencing a worker that went silent, and crashes counted apart from attempts.

``worker_pid`` is the PostgreSQL backend of the connection that holds the app's turn and runs
the attempt's transaction: the reconciler ends that backend when the lease expires (a frozen
worker then blocks nothing), and sees at once when it is gone (a killed worker). ``crashes``
counts the attempts that broke off, which the retry-or-fail policy reads; an attempt handed
back by a worker that was asked to stop is not one.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("imports", sa.Column("worker_pid", sa.Integer(), nullable=True))
    op.add_column(
        "imports", sa.Column("crashes", sa.Integer(), nullable=False, server_default="0")
    )
    # Before this revision every attempt after the first followed a crash.
    op.execute("UPDATE imports SET crashes = greatest(attempt - 1, 0)")


def downgrade() -> None:
    op.drop_column("imports", "crashes")
    op.drop_column("imports", "worker_pid")
