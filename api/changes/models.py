from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, Index, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from api.changes.actions import CHANGING, ChangeAction, sql_list
from api.db import Base


class ImportChange(Base):
    """One row of an import and what it did to its case.

    ``case_status``, ``date_opened`` and ``about`` are the values written: all of them for a
    create, only the changed ones for an update (NULL where a field stays). The ``old_`` ones
    are the case as it was: all three for an update or a delete, so that a plan can tell
    whether its case changed since and a revert can put it back. A case created by an applied
    import has no row here: ``cases.created_by_import`` and ``cases.created_line`` say it, at
    no cost to a large add.
    """

    __tablename__ = "import_changes"
    __table_args__ = (
        CheckConstraint(f"action IN {sql_list(tuple(ChangeAction))}", name="action"),
        # A case's history: only the rows that changed a case are indexed (a plan's creates
        # name none yet).
        Index(
            "ix_import_changes_case",
            "case_id",
            postgresql_where=f"case_id IS NOT NULL AND action IN {sql_list(CHANGING)}",
        ),
    )

    # No foreign key: it would cost a lookup per row of a large import; imports are never
    # deleted but with their app.
    import_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    line: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    action: Mapped[int] = mapped_column(SmallInteger)
    case_id: Mapped[int | None] = mapped_column(BigInteger)
    tag_id: Mapped[str | None] = mapped_column(Text)
    # A planned create's key: the plan is stale once a case has it.
    tag_key: Mapped[str | None] = mapped_column(Text)
    # The keys of a new and of a replaced description, written back by a plan and a revert.
    about_key: Mapped[str | None] = mapped_column(Text)
    case_status: Mapped[int | None] = mapped_column(SmallInteger)
    date_opened: Mapped[date | None] = mapped_column(Date)
    about: Mapped[str | None] = mapped_column(Text)
    old_case_status: Mapped[int | None] = mapped_column(SmallInteger)
    old_date_opened: Mapped[date | None] = mapped_column(Date)
    old_about: Mapped[str | None] = mapped_column(Text)
    old_about_key: Mapped[str | None] = mapped_column(Text)
