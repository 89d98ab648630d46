from __future__ import annotations

from fastapi import APIRouter, Response

from api.auth.deps import PrincipalDep
from api.errors import NotFound
from api.import_types.base import ImportType
from api.import_types.registry import all_types, get_type
from api.import_types.samples import XLSX_MEDIA_TYPE, sample_csv, sample_filename, sample_xlsx
from api.import_types.schemas import ColumnOut, ImportTypeOut
from api.openapi import problem_responses

router = APIRouter(tags=["import types"])


@router.get("/import-types", response_model=list[ImportTypeOut], responses=problem_responses(401))
async def list_import_types(_: PrincipalDep) -> list[ImportTypeOut]:
    """Every import type, with its columns and the link to its sample file."""
    return [
        ImportTypeOut(
            key=t.key,
            label=t.label,
            description=t.description,
            columns=[
                ColumnOut(name=c.name, required=c.required, rule=c.rule, aliases=list(c.aliases))
                for c in t.columns
            ],
            sample_url=f"/api/import-types/{t.key}/sample.csv",
            sample_xlsx_url=f"/api/import-types/{t.key}/sample.xlsx",
        )
        for t in all_types()
    ]


def _known(key: str) -> ImportType:
    import_type = get_type(key)
    if import_type is None:
        raise NotFound(f'There is no import type "{key}".', code="import_type_not_found")
    return import_type


@router.get(
    "/import-types/{key}/sample.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}, **problem_responses(404, s404="unknown type")},
)
async def download_sample(key: str) -> Response:
    """The sample file of a type: its header and two example rows (served without sign-in)."""
    import_type = _known(key)
    return Response(
        sample_csv(import_type),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{sample_filename(import_type)}"'},
    )


@router.get(
    "/import-types/{key}/sample.xlsx",
    response_class=Response,
    responses={
        200: {"content": {XLSX_MEDIA_TYPE: {}}},
        **problem_responses(404, s404="unknown type"),
    },
)
async def download_sample_xlsx(key: str) -> Response:
    """The sample as an Excel workbook, dates as date cells (served without sign-in)."""
    import_type = _known(key)
    filename = sample_filename(import_type, "xlsx")
    return Response(
        sample_xlsx(import_type),
        media_type=XLSX_MEDIA_TYPE,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
