"""The text fields of a create-import form, checked with the same problem shape as JSON bodies."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic.json_schema import SkipJsonSchema

from api.errors import Unprocessable
from api.import_types.dates import DateOrder
from api.import_types.registry import all_types, get_type
from api.imports.encodings import ENCODINGS, canonical
from api.reading.header import normalize_header

# Headers a column mapping may name: more than any real file has.
MAX_MAPPED = 200
_COLUMNS_SHAPE = 'columns must be a JSON object: {"file header": "column", "other header": null}'
# The document's schemas say what a form field is as sent (text), and what is accepted.
_BOOL_WORDS = ("true", "false", "1", "0", "yes", "no", "on", "off", "t", "f", "y", "n")
_FORM_BOOL = WithJsonSchema(
    {
        "anyOf": [
            {"type": "boolean"},
            # The words pydantic reads as a boolean, in any letter case.
            {
                "type": "string",
                "pattern": "^(?:{})$".format(
                    "|".join(
                        "".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in word)
                        for word in _BOOL_WORDS
                    )
                ),
            },
        ]
    }
)
_BINARY = WithJsonSchema({"type": "string", "format": "binary"})
# Sent as a JSON part (OpenAPI's default encoding for an object in a multipart form).
_COLUMNS_DOC = WithJsonSchema(
    {
        "type": "object",
        "maxProperties": MAX_MAPPED,
        # A header of spaces (or byte-order marks) alone is blank, in Python's and JSON
        # Schema's sense of spaces both.
        "propertyNames": {"maxLength": 255, "pattern": "[^\\s\\x1c-\\x1f\\x85\\ufeff]"},
        "additionalProperties": {
            "anyOf": [
                {
                    "type": "string",
                    "enum": sorted({c.name for t in all_types() for c in t.columns}),
                },
                {"type": "null"},
            ]
        },
        "description": "the file's header -> the column it fills (one of the import type's), "
        'or null to ignore it, as JSON: {"Case Number": "tag_id", "Notes": null}',
    }
)


class CreateImportForm(BaseModel):
    model_config = ConfigDict(extra="ignore")

    name: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
        # Spaces around it are dropped, so it needs one character that is not a space.
        Field(json_schema_extra={"pattern": r"\S"}, description="unique in the app"),
    ]
    type: Annotated[str, Field(json_schema_extra={"enum": [t.key for t in all_types()]})]
    validate_only: Annotated[bool, _FORM_BOOL] = False
    on_error: Literal["fail", "skip"] = "fail"
    date_order: Annotated[
        DateOrder,
        WithJsonSchema({"type": "string", "enum": [order.value for order in DateOrder]}),
        Field(description="how slash dates read: month first or day first"),
    ] = DateOrder.MDY
    # Names the file's encoding instead of letting the worker decide ("" is the same as none).
    encoding: Annotated[
        str | SkipJsonSchema[None],
        Field(
            json_schema_extra={"enum": ["", *ENCODINGS]},
            description="the CSV file's encoding (GET /api/encodings; other spellings of "
            "those are read too); without it, or empty, the service decides",
        ),
    ] = None
    # Names a workbook's sheet instead of the first visible one ("" is the same as none).
    sheet: Annotated[
        str | SkipJsonSchema[None],
        StringConstraints(max_length=255),
        Field(description="a workbook's sheet, by name; without it the first visible one"),
    ] = None
    # The file's header text -> the column it fills, or None to ignore that column.
    columns: Annotated[
        dict[Annotated[str, StringConstraints(max_length=255)], str | None] | None, _COLUMNS_DOC
    ] = None

    @field_validator("columns", mode="before")
    @classmethod
    def _columns_json(cls, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        if not value.strip():
            return None
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ValueError(_COLUMNS_SHAPE)
        return parsed

    @field_validator("columns")
    @classmethod
    def _columns_of_type(
        cls, value: dict[str, str | None] | None, info: ValidationInfo
    ) -> dict[str, str | None] | None:
        if not value:
            return None
        if len(value) > MAX_MAPPED:
            raise ValueError(f"columns may name at most {MAX_MAPPED} headers")
        if any(not normalize_header(header) for header in value):
            raise ValueError("columns names a blank header")
        import_type = get_type(info.data.get("type", ""))
        if import_type is None:
            return value  # the type's own error says why
        known = [column.name for column in import_type.columns]
        for header, name in value.items():
            if name is not None and name not in known:
                raise ValueError(
                    f'columns maps "{header}" to "{name}", which is not a column of '
                    f"{import_type.key}; use one of: {', '.join(known)}, or null to ignore it"
                )
        return value

    @field_validator("sheet")
    @classmethod
    def _blank_sheet_is_none(cls, value: str | None) -> str | None:
        return value if value is not None and value.strip() else None

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        found = canonical(value)
        if found is None:
            known = ", ".join(ENCODINGS)
            raise ValueError(
                f'"{value}" is not an encoding this service reads; use one of: {known}'
            )
        return found

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if get_type(value) is None:
            known = ", ".join(t.key for t in all_types())
            raise ValueError(f'"{value}" is not an import type; use one of: {known}')
        return value


class CreateImportUpload(CreateImportForm):
    """The create-import form as sent: its fields and, optionally, the file (else a draft)."""

    file: Annotated[bytes | SkipJsonSchema[None], _BINARY] = None


class FileUpload(BaseModel):
    """The form of a file sent on its own."""

    file: Annotated[bytes, _BINARY]


def parse_create_form(fields: dict[str, str]) -> CreateImportForm:
    try:
        return CreateImportForm.model_validate(fields)
    except ValidationError as exc:
        raise Unprocessable(
            "The import form is not valid.",
            errors=[
                {
                    "loc": ["body", *(str(part) for part in err["loc"])],
                    "message": err["msg"].removeprefix("Value error, "),
                    "type": err["type"],
                }
                for err in exc.errors(include_url=False)
            ],
        ) from None
