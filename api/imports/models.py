from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import INT8RANGE, JSONB, Range
from sqlalchemy.orm import Mapped, mapped_column
from uuid6 import uuid7

from api.db import Base
from api.import_types.dates import DateOrder
from api.imports.file_format import FILE_FORMATS
from api.imports.status import ACTIVE, ImportStatus, sql_list


def time_ordered_id() -> uuid.UUID:
    """A UUIDv7: a later import's id sorts after an earlier one's, so the rows it records go at
    the end of ``import_changes``' primary key instead of splitting pages in its middle."""
    return uuid.UUID(bytes=uuid7().bytes)


DATE_ORDERS = "(" + ", ".join(f"'{order.value}'" for order in DateOrder) + ")"


class StoredFile(Base):
    """An uploaded file; its bytes live in ``file_chunks``, readable by any worker anywhere."""

    __tablename__ = "files"
    __table_args__ = (
        # The retention purge's scan: the files it has not purged yet, oldest first.
        Index("ix_files_unpurged", "created_at", postgresql_where="purged_at IS NULL"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # When its chunks were deleted, past the retention time; the row stays to describe it.
    purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class FileChunk(Base):
    __tablename__ = "file_chunks"

    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class Import(Base):
    __tablename__ = "imports"
    __table_args__ = (
        UniqueConstraint("app_id", "name", name="uq_imports_app_id_name"),
        CheckConstraint(f"status IN {sql_list(ImportStatus)}", name="status"),
        CheckConstraint("on_error IN ('fail', 'skip')", name="on_error"),
        CheckConstraint(f"date_order IN {DATE_ORDERS}", name="date_order"),
        CheckConstraint(f"file_format IN {FILE_FORMATS}", name="file_format"),
        Index("ix_imports_app_created", "app_id", "created_at"),
        # The reconciler's scan: only imports that are not finished.
        Index(
            "ix_imports_active",
            "status",
            postgresql_where=f"status IN {sql_list(ACTIVE)}",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=time_ordered_id)
    app_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("apps.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    validate_only: Mapped[bool] = mapped_column(Boolean, default=False)
    on_error: Mapped[str] = mapped_column(String(8), default="fail")
    # How slash dates read: month first (the default) or day first.
    date_order: Mapped[str] = mapped_column(String(3), server_default=DateOrder.MDY.value)
    # The file's encoding as the user named it; None lets the worker decide.
    encoding: Mapped[str | None] = mapped_column(String(32))
    # A workbook's sheet as the user named it; None reads the first visible one.
    sheet: Mapped[str | None] = mapped_column(String(255))
    # The upload's column mapping (header text -> column, or null to ignore it); None: none.
    columns: Mapped[dict[str, str | None] | None] = mapped_column(JSONB)
    # What the worker read the file as (None until it has read it); a workbook has no encoding
    # and no delimiter.
    file_format: Mapped[str | None] = mapped_column(String(8))
    file_encoding: Mapped[str | None] = mapped_column(String(32))
    file_delimiter: Mapped[str | None] = mapped_column(String(4))
    file_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"))
    created_by: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Fencing token: each (re)queue increments it; a job only acts on its own attempt.
    attempt: Mapped[int] = mapped_column(Integer, default=0)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The PostgreSQL backend running the attempt: ended when its lease expires.
    worker_pid: Mapped[int | None] = mapped_column(Integer)
    # Attempts that broke off (the retry-or-fail policy counts them; a hand-back is not one).
    crashes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_processed: Mapped[int] = mapped_column(BigInteger, default=0)
    rows_total: Mapped[int | None] = mapped_column(BigInteger)
    bytes_processed: Mapped[int] = mapped_column(BigInteger, default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error_summary: Mapped[str | None] = mapped_column(Text)
    # Errors in all, and the rows they are on (a row may have several).
    error_count: Mapped[int | None] = mapped_column(BigInteger)
    error_rows: Mapped[int | None] = mapped_column(BigInteger)
    # Every error counted by code and column: [{"code", "column", "count", "first_line",
    # "message"}] (api.imports.error_groups), or None when there were none.
    error_groups: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # What the user should confirm: [{"code", "message", "count"}], or None.
    warnings: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # The check-only import whose changes this one applies; a plan is applied once.
    plan_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("imports.id"), unique=True)
    # The import this one takes back (type "revert").
    revert_of: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("imports.id"), index=True)
    # The import whose stored file this check-only import checks again (it shares that file).
    checks_again: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("imports.id"), index=True)
    # The case ids its write took (ids follow its file's lines): its created cases are read by
    # primary key, with no index of their own that a large add would pay for.
    created_ids: Mapped[Range[int] | None] = mapped_column(INT8RANGE)


class ImportFile(Base):
    """A file an import was given, in the order they came (``n`` from 1): the current one is
    the last. An earlier one keeps the status and error counts its run ended with. A check
    again's first file is the one of the import it checks again: one stored file, two holders."""

    __tablename__ = "import_files"

    import_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True
    )
    n: Mapped[int] = mapped_column(Integer, primary_key=True)
    file_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("files.id", ondelete="CASCADE"), index=True
    )
    attached_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    # Set when a later file replaces it; the current file's are the import's own.
    status: Mapped[str | None] = mapped_column(String(16))
    error_count: Mapped[int | None] = mapped_column(BigInteger)
    error_rows: Mapped[int | None] = mapped_column(BigInteger)


class ImportRowError(Base):
    """One kept error of an import (the first ``max_kept_errors`` in line order)."""

    __tablename__ = "import_errors"

    import_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("imports.id", ondelete="CASCADE"), primary_key=True
    )
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    line: Mapped[int | None] = mapped_column(BigInteger)
    column: Mapped[str | None] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)


class IdempotencyKey(Base):
    """A create request's key; a repeat answers the import it made."""

    __tablename__ = "idempotency_keys"

    app_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("apps.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    # SHA-256 over name, type, options and the file's SHA-256: what "the same request" means.
    fingerprint: Mapped[str] = mapped_column(String(64))
    import_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("imports.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
