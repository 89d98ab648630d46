from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    SmallInteger,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from api.cases import keys
from api.db import Base


def _key_of(column: str, key: Callable[[str], str]) -> Callable[[Any], str]:
    """An ORM insert's default for a key column, from the column it folds (api/cases/keys.py)."""
    return lambda context: key(context.get_current_parameters()[column])


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        UniqueConstraint("app_id", "tag_key", name="uq_cases_app_tag_key"),
        # Deferrable so that one modify file may swap two cases' descriptions.
        UniqueConstraint(
            "app_id",
            "about_key",
            name="uq_cases_app_about_key",
            deferrable=True,
            initially="IMMEDIATE",
        ),
        CheckConstraint("case_status IN (0, 1)", name="case_status"),
        # Only the keys are indexed (the tag serves the default sort): an index on date_opened
        # or updated_at took an entry per added or changed case, a large share of a big
        # import's time (docs/performance.md).
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # No foreign keys on this table: each would cost a lookup per inserted row, the larger part of
    # a million-row add. Apps and imports are never deleted, and only the worker writes cases.
    app_id: Mapped[uuid.UUID]
    tag_id: Mapped[str] = mapped_column(Text)
    # The comparison keys (api/cases/keys.py); the worker writes them with each row.
    tag_key: Mapped[str] = mapped_column(Text, default=_key_of("tag_id", keys.tag_key))
    case_status: Mapped[int] = mapped_column(SmallInteger)
    date_opened: Mapped[date] = mapped_column(Date)
    about: Mapped[str] = mapped_column(Text)
    about_key: Mapped[str] = mapped_column(Text, default=_key_of("about", keys.about_key))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by_import: Mapped[uuid.UUID | None]
    # The line of created_by_import's file that created the case (None before plans existed).
    created_line: Mapped[int | None] = mapped_column(BigInteger)
    updated_by_import: Mapped[uuid.UUID | None]
