"""Reading what imports did to cases: an import's rows in line order, a case's imports.

An applied import's creates are read from ``cases`` (``created_by_import``, ``created_line``,
found by primary key within the import's ``created_ids``; their ids follow the lines),
or, once reverted, from the revert's deletions; everything else from ``import_changes``. A
created case's values are those it was created with: the before-image of the first later
update, when a later import changed it.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from api.changes.actions import ChangeAction

FIELDS = ("case_status", "date_opened", "about")
Value = int | date | str | None


@dataclass(frozen=True, slots=True)
class ChangeRow:
    line: int
    action: ChangeAction
    tag_id: str | None
    new: tuple[Value, Value, Value]
    old: tuple[Value, Value, Value]


# The values a case was created with: the before-image of the first completed import that
# updated it after, else the case as it is.
_CREATED_VALUES = """
    LEFT JOIN LATERAL (
        SELECT ch.old_case_status, ch.old_date_opened, ch.old_about
        FROM import_changes ch JOIN imports i ON i.id = ch.import_id
        WHERE ch.case_id = c.id AND ch.action = 2 AND ch.import_id <> c.created_by_import
          AND i.status = 'completed' AND NOT i.validate_only
        ORDER BY i.finished_at LIMIT 1
    ) later ON true
"""

_CREATED = f"""
    SELECT c.created_line AS line, 1 AS action, c.tag_id,
           coalesce(later.old_case_status, c.case_status) AS case_status,
           coalesce(later.old_date_opened, c.date_opened) AS date_opened,
           coalesce(later.old_about, c.about) AS about,
           NULL::smallint AS old_case_status, NULL::date AS old_date_opened,
           NULL::text AS old_about
    FROM cases c {_CREATED_VALUES}
    WHERE c.id >= (SELECT lower(created_ids) FROM imports WHERE id = :import_id)
      AND c.id < (SELECT upper(created_ids) FROM imports WHERE id = :import_id)
      AND c.created_by_import = :import_id AND c.created_line > :after
    ORDER BY c.id LIMIT :limit
"""

# Creates a completed revert removed: the values it removed are those created.
_REVERTED_CREATES = """
    SELECT ch.line, 1 AS action, ch.tag_id,
           ch.old_case_status AS case_status, ch.old_date_opened AS date_opened,
           ch.old_about AS about,
           NULL::smallint AS old_case_status, NULL::date AS old_date_opened,
           NULL::text AS old_about
    FROM import_changes ch JOIN imports r ON r.id = ch.import_id
    WHERE r.revert_of = :import_id AND r.status = 'completed' AND ch.action = 5
      AND ch.line > :after
    ORDER BY ch.line LIMIT :limit
"""

_RECORDED = """
    SELECT line, action, tag_id, case_status, date_opened, about,
           old_case_status, old_date_opened, old_about
    FROM import_changes
    WHERE import_id = :import_id AND line > :after AND action = ANY(:actions)
    ORDER BY line LIMIT :limit
"""


def _row(r: Sequence[Any]) -> ChangeRow:
    line, action, tag, *values = r
    return ChangeRow(
        line=int(line),
        action=ChangeAction(action),
        tag_id=tag,
        new=(values[0], values[1], values[2]),
        old=(values[3], values[4], values[5]),
    )


async def changes(
    session: AsyncSession,
    import_id: uuid.UUID,
    *,
    actions: Collection[ChangeAction],
    after_line: int,
    limit: int,
    applied: bool,
) -> list[ChangeRow]:
    """Up to ``limit`` rows after ``after_line``, in line order. ``applied``: the import wrote
    cases, so its creates are read from them."""
    params = {"import_id": import_id, "after": after_line, "limit": limit}
    found = [
        _row(r)
        for r in await session.execute(
            text(_RECORDED), {**params, "actions": [int(a) for a in actions]}
        )
    ]
    if applied and ChangeAction.CREATE in actions:
        for query in (_CREATED, _REVERTED_CREATES):
            found.extend(_row(r) for r in await session.execute(text(query), params))
    return sorted(found, key=lambda c: c.line)[:limit]


@dataclass(frozen=True, slots=True)
class HistoryRow:
    import_id: uuid.UUID
    import_name: str
    type: str
    by: str
    at: datetime | None
    change: ChangeRow


_HISTORY = f"""
    SELECT i.id, i.name, i.type, u.email, i.finished_at,
           c.created_line, 1, c.tag_id,
           coalesce(later.old_case_status, c.case_status),
           coalesce(later.old_date_opened, c.date_opened),
           coalesce(later.old_about, c.about), NULL, NULL, NULL
    FROM cases c {_CREATED_VALUES}
    JOIN imports i ON i.id = c.created_by_import JOIN users u ON u.id = i.created_by
    WHERE c.id = :case_id
    UNION ALL
    SELECT i.id, i.name, i.type, u.email, i.finished_at,
           ch.line, ch.action, ch.tag_id, ch.case_status, ch.date_opened, ch.about,
           ch.old_case_status, ch.old_date_opened, ch.old_about
    FROM import_changes ch
    JOIN imports i ON i.id = ch.import_id JOIN users u ON u.id = i.created_by
    WHERE ch.case_id = :case_id AND ch.action IN (1, 2, 5)
      AND i.status = 'completed' AND NOT i.validate_only
    ORDER BY 5 DESC NULLS LAST
"""


async def history(session: AsyncSession, case_id: int) -> list[HistoryRow]:
    """Every completed import that created or changed the case, newest first."""
    rows = await session.execute(text(_HISTORY), {"case_id": case_id})
    return [
        HistoryRow(
            import_id=r[0],
            import_name=r[1],
            type=r[2],
            by=r[3],
            at=r[4],
            change=_row((r[5] or 0, *r[6:])),
        )
        for r in rows
    ]
