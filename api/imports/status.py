"""The statuses of an import and the groups the rest of the code asks about.

Every other place (the table's check constraint, the API schema, the worker's SQL, the SPA)
derives its words from here; ``lifecycle.py`` is the only code that moves an import between
them.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum


class ImportStatus(StrEnum):
    DRAFT = "draft"
    QUEUED = "queued"
    VALIDATING = "validating"
    APPLYING = "applying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def symbol(self) -> str:
        """The sign shown beside the label, in the SPA and on a terminal alike."""
        return _SYMBOLS[self]


_SYMBOLS = {
    ImportStatus.DRAFT: "✎",
    ImportStatus.QUEUED: "⧗",
    ImportStatus.VALIDATING: "⟳",
    ImportStatus.APPLYING: "⟳",
    ImportStatus.COMPLETED: "✔",
    ImportStatus.FAILED: "✖",
    ImportStatus.CANCELLED: "⦸",
}


# A worker holds a lease on the import and reports its progress.
RUNNING = frozenset({ImportStatus.VALIDATING, ImportStatus.APPLYING})
# Waiting for a worker or being worked on: its page follows it.
ACTIVE = frozenset({ImportStatus.QUEUED, *RUNNING})
# Nothing is applied yet, so stopping it loses nothing.
CANCELLABLE = frozenset({ImportStatus.DRAFT, ImportStatus.QUEUED, ImportStatus.VALIDATING})
# A file can be attached: the draft's first, or a failed import's corrected one.
ATTACHABLE = frozenset({ImportStatus.DRAFT, ImportStatus.FAILED})
FINISHED = frozenset({ImportStatus.COMPLETED, ImportStatus.FAILED, ImportStatus.CANCELLED})


def sql_list(statuses: Iterable[ImportStatus]) -> str:
    """``('a', 'b')`` for an ``IN`` in SQL text, in the enum's order."""
    chosen = set(statuses)
    return "(" + ", ".join(f"'{s.value}'" for s in ImportStatus if s in chosen) + ")"
