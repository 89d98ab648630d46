"""The case object of the API, from a stored case."""

from __future__ import annotations

from api.cases.models import Case
from api.cases.schemas import CaseOut
from api.cases.service import status_of


def case_out(case: Case) -> CaseOut:
    return CaseOut(
        tag_id=case.tag_id,
        case_status=case.case_status,
        status=status_of(case),
        date_opened=case.date_opened,
        about=case.about,
        created_at=case.created_at,
        updated_at=case.updated_at,
        created_by_import=case.created_by_import,
        updated_by_import=case.updated_by_import,
    )
