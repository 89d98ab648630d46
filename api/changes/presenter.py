"""Change rows as the API shows them: each field with its old and new value."""

from __future__ import annotations

from api.changes.actions import ChangeAction
from api.changes.repository import FIELDS, ChangeRow, HistoryRow
from api.changes.schemas import ChangeOut, FieldChangeOut, HistoryEntryOut


def _fields(row: ChangeRow) -> list[FieldChangeOut]:
    if row.action in (ChangeAction.UNCHANGED, ChangeAction.FAILED):
        return []
    shown = []
    for name, old, new in zip(FIELDS, row.old, row.new, strict=True):
        if row.action == ChangeAction.UPDATE and new is None:
            continue  # a field the update left as it was
        shown.append(FieldChangeOut(field=name, old=old, new=new))
    return shown


def change_out(row: ChangeRow) -> ChangeOut:
    return ChangeOut(line=row.line, action=row.action.word, tag_id=row.tag_id, fields=_fields(row))


def history_entry_out(row: HistoryRow) -> HistoryEntryOut:
    change = row.change
    return HistoryEntryOut(
        import_id=row.import_id,
        import_name=row.import_name,
        type=row.type,
        by=row.by,
        at=row.at,
        line=change.line,
        action=change.action.word,
        fields=_fields(change),
    )
