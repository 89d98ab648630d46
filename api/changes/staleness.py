"""Whether a plan still holds: the first case it touches that changed since it was made.

A planned create is stale once a case has its tag; a planned update once its case is gone or no
longer holds the values the plan saw. Asked by the API before it queues the plan's apply, and
again by the worker in the transaction that applies it.
"""

from __future__ import annotations

from dataclasses import dataclass


def first_stale(app: str, plan: str) -> str:
    """The query, with ``app`` and ``plan`` as its parameters' placeholders ($1 or :name)."""
    return f"""
    SELECT line, tag_id, what FROM (
        (SELECT p.line, c.tag_id, 'created' AS what
         FROM import_changes p JOIN cases c ON c.app_id = {app} AND c.tag_key = p.tag_key
         WHERE p.import_id = {plan} AND p.action = 1
         ORDER BY p.line LIMIT 1)
        UNION ALL
        (SELECT p.line, p.tag_id, CASE WHEN c.id IS NULL THEN 'deleted' ELSE 'changed' END
         FROM import_changes p LEFT JOIN cases c ON c.id = p.case_id
         WHERE p.import_id = {plan} AND p.action = 2
           AND (c.id IS NULL
                OR (c.case_status, c.date_opened, c.about)
                   IS DISTINCT FROM (p.old_case_status, p.old_date_opened, p.old_about))
         ORDER BY p.line LIMIT 1)
    ) AS stale
    ORDER BY line LIMIT 1
"""


@dataclass(frozen=True, slots=True)
class Stale:
    line: int
    tag_id: str
    what: str  # created, deleted or changed

    @property
    def message(self) -> str:
        since = {
            "created": "was created",
            "deleted": "was deleted",
            "changed": "was changed",
        }[self.what]
        return (
            f'The plan is stale: case "{self.tag_id}" (line {self.line}) {since} since the plan '
            "was checked. Check the file again to make a new plan."
        )
