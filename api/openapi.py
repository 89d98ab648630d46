"""What the OpenAPI document says beyond FastAPI's defaults: the problem+json shape of every
error answer, and multipart bodies typed by the models that check them.

Routes name their error statuses with ``problem_responses(401, 404, ...)`` and their forms with
``multipart_body(Model)``; ``install_openapi`` adds the shared schemas to the document and puts
the problem shape where FastAPI would describe its own validation error, which this service
never sends.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import SkipJsonSchema

from api.problems import PROBLEM_JSON

_REF = "#/components/schemas/"
_FASTAPI_422 = _REF + "HTTPValidationError"
# FastAPI's validation error models: described for every route with parameters, never sent here.
_FASTAPI_MODELS = ("HTTPValidationError", "ValidationError")


def _no_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class FieldError(BaseModel):
    """Which part of the request is wrong, and why."""

    loc: list[str] = Field(description='where: ["body", "name"], ["query", "limit"]')
    message: str
    type: str = Field(description="a stable word for the kind of error")


class Problem(BaseModel):
    """An RFC 9457 problem document; more members may follow (``line``, ``tag_id`` of
    ``plan_stale``)."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(examples=["/problems/import_not_found"])
    title: str = Field(examples=["Not Found"])
    status: int = Field(ge=400, le=599)
    detail: str
    code: str = Field(description="a stable word to test in scripts", examples=["not_found"])
    # Absent rather than null when there are none.
    errors: list[FieldError] | SkipJsonSchema[None] = Field(
        default=None, json_schema_extra=_no_default
    )
    request_id: str | SkipJsonSchema[None] = Field(
        default=None,
        description="the request's id, as in the X-Request-ID header and the logs",
        json_schema_extra=_no_default,
    )


_SHARED: tuple[type[BaseModel], ...] = (Problem,)
_UNAVAILABLE = "the database cannot be reached for a moment (service_unavailable, Retry-After)"


def _problem_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {PROBLEM_JSON: {"schema": {"$ref": _REF + "Problem"}}},
    }


def problem_responses(*statuses: int, **why: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route's error answers; ``why`` says when one comes (``s409="..."``)."""
    return {
        status: _problem_response(
            why.get(f"s{status}", _UNAVAILABLE if status == 503 else HTTPStatus(status).phrase)
        )
        for status in statuses
    }


def multipart_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra=`` for a route that reads its multipart form itself (streamed, so not
    through FastAPI's Form parameters): the form's schema is the model's."""
    schema = model.model_json_schema()
    # Inlined in the operation, where "#/$defs/..." would point nowhere.
    assert "$defs" not in schema, f"{model.__name__}: give nested types a plain schema"
    for field in schema.get("properties", {}).values():
        # A form field left out is None to the model; in the form it is absent, never null.
        if "default" in field and field["default"] is None:
            del field["default"]
    # An object is sent as a JSON part.
    encoding = {
        name: {"contentType": "application/json"}
        for name, field in schema.get("properties", {}).items()
        if field.get("type") == "object"
    }
    form: dict[str, Any] = {"schema": schema, **({"encoding": encoding} if encoding else {})}
    return {"requestBody": {"required": True, "content": {"multipart/form-data": form}}}


def _with_problems(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _FASTAPI_MODELS:
        schemas.pop(name, None)
    for model in _SHARED:
        schema = model.model_json_schema(ref_template=_REF + "{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            answer = operation.get("responses", {}).get("422", {})
            refs = [c.get("schema", {}).get("$ref") for c in answer.get("content", {}).values()]
            if _FASTAPI_422 in refs:
                operation["responses"]["422"] = _problem_response(
                    "the request is not valid (invalid_request; errors says where)"
                )
            # Knowing the caller reads the database.
            if "security" in operation:
                operation["responses"].setdefault("503", _problem_response(_UNAVAILABLE))
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                operation["responses"].setdefault(
                    "400", _problem_response("the body cannot be read as JSON (bad_request)")
                )
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the document with the problem shape, 503 where a caller is looked up, and 400
    where a JSON body is read (made once, on the first request for it)."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = _with_problems(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    openapi_version=app.openapi_version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
