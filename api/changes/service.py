"""An import's rows as changes, and a case's history."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from api.auth.principal import AppAccess
from api.cases import service as cases
from api.changes import repository
from api.changes.actions import ChangeAction
from api.imports import service as imports
from api.imports.status import ImportStatus
from api.paging import Page, bigint_key, decode_cursor, page_of


async def changes_page(
    session: AsyncSession,
    access: AppAccess,
    import_id: uuid.UUID,
    *,
    action: ChangeAction | None,
    limit: int,
    cursor: str | None,
) -> Page[repository.ChangeRow]:
    """What each row did (an applied import) or would do (a check-only one), in line order."""
    row = (await imports.get_import(session, access, import_id)).row
    after = decode_cursor(cursor, bigint_key)[0] if cursor else 0
    rows = await repository.changes(
        session,
        import_id,
        actions=tuple(ChangeAction) if action is None else (action,),
        after_line=after,
        limit=limit + 1,
        applied=row.status == ImportStatus.COMPLETED and not row.validate_only,
    )
    return page_of(rows, limit, lambda last: [last.line])


async def case_history(
    session: AsyncSession, access: AppAccess, tag_id: str
) -> tuple[str, list[repository.HistoryRow]]:
    case = await cases.get_case(session, access.app_id, tag_id)
    return case.tag_id, await repository.history(session, case.id)
