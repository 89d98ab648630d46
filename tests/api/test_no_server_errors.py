"""No request to any route answers a server error (issue 12).

Schemathesis reads the app's own OpenAPI document (the one served at ``/api/openapi.json``) and
makes one test per operation, for every operation in it. Each request goes in-process to the
real app (the session's ``app``, through the ``client`` fixture) against the real PostgreSQL and
Redis, as the admin of an app that exists (``admin_setup``'s bearer token; the two operations
that need a signed-in session, creating an app or a token, get an owner's session cookie).
Per operation it sends:

- the schema's own examples, and schemathesis's coverage cases: each parameter and body field
  at its boundaries, of the wrong type, missing, with unexpected extras, and the operation's
  path with the methods it does not allow (deterministic, whatever the budget);
- up to ``MAX_EXAMPLES`` random requests, valid and invalid ones, with the hostile values
  schemathesis draws from the schemas (NUL characters, odd unicode, huge numbers, empty and
  over-long strings, wrong types);
- explicit examples of inputs known to be dangerous (``dangerous_requests``): a NUL in every
  path and query parameter, non-UTF-8 percent-encoding in each of them (``%ff``; in paths also
  an overlong ``%C0%80`` and an encoded surrogate), ``limit`` of 0, negative and huge, cursors
  that decode but do not parse (the wrong shape or types, numbers no column holds, NUL, a lone
  surrogate, times that leave the calendar in UTC, JSON nested too deep to read) on every sort
  of the cases list; in JSON bodies a lone surrogate in each string field and a huge number in
  each numeric one; multipart boundaries longer than the parser reads.

So that requests get past the 404s to the code behind them, the path parameters that name
something (``{app}``, ``{import_id}``) name the app and a draft import that exist: always in the
explicit examples and in the coverage cases (but those about that very parameter), and in about
half of the random ones; half of the random import forms name an import type that exists; and
a coverage case leaves out the optional headers it is not about (their first value, an empty
Idempotency-Key, would answer all the import's cases with the same 422).

The one property is schemathesis's ``not_a_server_error`` check: no answer is a 5xx. (An
unhandled exception, which would answer 500, reaches the test as itself: the suite's client
raises the app's exceptions, so the failure shows its traceback.) Any other answer is fine here;
the other tests say which one each input gets. The run is derandomized, so every run (CI's
too) sends the same requests, and the example database is off, so no run replays what an
earlier one saved. The file takes about 20 seconds.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import hypothesis
import pytest
import requests
import schemathesis
from httpx import AsyncClient
from hypothesis import HealthCheck
from hypothesis import strategies as st
from schemathesis import Case, HookContext
from schemathesis.checks import not_a_server_error
from schemathesis.core.parameters import RAW_QUERY_STRING_KEY, RawQueryString
from schemathesis.generation.meta import TestPhase
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from api.auth import service as auth_service
from api.auth.deps import SESSION_COOKIE
from api.config import Settings, get_settings
from api.db import unit_of_work
from api.import_types.registry import all_types
from api.imports.encodings import ENCODINGS
from api.main import create_app
from tests.factories import AdminSetup, admin_setup, make_user

# Random requests per operation, beyond the examples and coverage cases.
MAX_EXAMPLES = 25
SLUG = "field-ops"
# Creating an app, a token or a webhook, changing a webhook, and reading the whole audit log,
# need a signed-in session (a token cannot): these get an owner's.
SESSION_ONLY = frozenset(
    {
        ("POST", "/api/apps"),
        ("POST", "/api/apps/{app}/tokens"),
        ("GET", "/api/audit"),
        ("POST", "/api/apps/{app}/webhooks"),
        ("PATCH", "/api/apps/{app}/webhooks/{webhook_id}"),
        ("POST", "/api/apps/{app}/webhooks/{webhook_id}/rotate-secret"),
    }
)
CREATE_IMPORT = ("POST", "/api/apps/{app}/imports")

# The document the app serves at /api/openapi.json (making it needs no database).
OPENAPI: dict[str, Any] = create_app(get_settings()).openapi()
# An import's event stream lasts as long as the import runs (a draft's, until it has a file),
# while the in-process client reads an answer to its end: tests/api/test_events.py sends it
# its inputs over a real server.
schema = schemathesis.openapi.from_dict(OPENAPI).exclude(path_regex="/events$")

# What the path parameters that name something are pinned to; the import is made per test.
PINS: dict[str, str] = {"app": SLUG}
# An explicit example's path parameter written so is given its pinned value (or a made-up id).
PINNED = "<pinned>"
NO_SUCH_ID = "00000000-0000-0000-0000-000000000000"
_NUMBERS = itertools.count(1)

# --- The dangerous inputs -------------------------------------------------------------------


def raw_cursor(json_text: str) -> str:
    return base64.urlsafe_b64encode(json_text.encode()).decode().rstrip("=")


HUGE = 10**30
# Cursors no list can read; all but the first decode (base64 of JSON), to values of the wrong
# shape, type or range.
BAD_CURSORS = [
    "not base64!",
    raw_cursor("{}"),
    raw_cursor('"text"'),
    raw_cursor("[]"),
    raw_cursor('["x", "y"]'),
    raw_cursor("[1, 2, 3]"),
    raw_cursor('["2026-01-01T00:00:00+00:00", 1]'),
    raw_cursor('["0001-01-01", 1]'),
    raw_cursor(f'["0001-01-01T00:00:00+14:00", "{NO_SUCH_ID}"]'),
    raw_cursor(f'["9999-12-31T23:59:59-14:00", "{NO_SUCH_ID}"]'),
    raw_cursor('["a\\u0000b", 1]'),
    raw_cursor('["\\ud800", 1]'),
    raw_cursor("[Infinity, NaN]"),
    raw_cursor(f"[{HUGE}, {HUGE}]"),
    raw_cursor(f'["{HUGE}", "{HUGE}"]'),
    raw_cursor("[-1, -1]"),
    raw_cursor("[1e400]"),
    raw_cursor(f"[{2**31}]"),
    raw_cursor("[Infinity]"),
    raw_cursor("[1.5]"),
    raw_cursor("[true]"),
    raw_cursor('["a\\u0000b"]'),
    raw_cursor("[" * 5_000 + "]" * 5_000),
]
CASE_SORTS = ["-updated_at", "date_opened", "tag_id"]
# Path parameters go into the URL as written here.
BAD_PATH_VALUES = ["a%00b", "%ff", "%C0%80", "%ED%A0%80"]


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if ref is None:
        return node
    found: dict[str, Any] = OPENAPI
    for part in ref.removeprefix("#/").split("/"):
        found = found[part]
    return found


def _types(node: dict[str, Any]) -> set[str]:
    node = _resolve(node)
    kinds = {node["type"]} if "type" in node else set()
    for option in node.get("anyOf", []):
        kinds |= _types(option)
    return kinds


@dataclass(frozen=True)
class Request:
    path_parameters: dict[str, str]
    query: dict[str, Any]
    body: dict[str, Any] | None = None
    headers: dict[str, str] | None = None


def dangerous_requests(method: str, path: str) -> Iterator[Request]:
    """The explicit examples of one operation."""
    operation = OPENAPI["paths"][path][method.lower()]
    parameters = operation.get("parameters", [])
    path_names = [p["name"] for p in parameters if p["in"] == "path"]
    query_names = [p["name"] for p in parameters if p["in"] == "query"]
    pinned = dict.fromkeys(path_names, PINNED)

    for name in path_names:
        for value in BAD_PATH_VALUES:
            yield Request({**pinned, name: value}, {})
    for name in query_names:
        yield Request(pinned, {name: "a\x00b"})
        # Sent as written (schemathesis's own marker for a raw query string).
        yield Request(pinned, {RAW_QUERY_STRING_KEY: RawQueryString(f"{name}=%ff")})
    if "limit" in query_names:
        for limit in (0, -1, HUGE):
            yield Request(pinned, {"limit": limit})
    if "cursor" in query_names:
        sorts: list[str | None] = list(CASE_SORTS) if "sort" in query_names else [None]
        for sort in sorts:
            for cursor in BAD_CURSORS:
                yield Request(pinned, {"cursor": cursor, **({"sort": sort} if sort else {})})

    content = operation.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content:
        # A boundary longer than RFC 2046's 70 characters, and than the parser's 256.
        for boundary in ("b" * 71, "b" * 300, '"b"; boundary=c', '"'):
            media_type = f"multipart/form-data; boundary={boundary}"
            yield Request(pinned, {}, headers={"Content-Type": media_type})
    if "application/json" in content:
        body_schema = _resolve(content["application/json"]["schema"])
        fields = body_schema.get("properties", {})
        required = {
            name: "x" if "string" in _types(fields[name]) else 1
            for name in body_schema.get("required", [])
        }
        for name, field in fields.items():
            kinds = _types(field)
            if "string" in kinds:
                yield Request(pinned, {}, {**required, name: "\ud800"})
                yield Request(pinned, {}, {**required, name: "x\udfffy"})
            if kinds & {"integer", "number"}:
                yield Request(pinned, {}, {**required, name: HUGE})


def _add_dangerous_examples(context: HookContext, examples: list[Case[Any]]) -> None:
    operation = context.operation
    assert operation is not None
    for request in dangerous_requests(operation.method, operation.path):
        if request.body is None:
            case = operation.Case(
                path_parameters=request.path_parameters,
                query=request.query,
                headers=request.headers,
            )
        else:
            case = operation.Case(
                path_parameters=request.path_parameters,
                body=request.body,
                media_type="application/json",
            )
        examples.append(case)


# --- Getting past the 404s ------------------------------------------------------------------


def _sometimes_what_exists(context: HookContext, parameters: dict[str, Any]) -> Any:
    """The random path parameters, or (about half the time) the app and import that exist."""
    names = PINS.keys() & (parameters or {}).keys()
    if not names:
        return st.just(parameters)
    return st.sampled_from([{**parameters, **{name: PINS[name] for name in names}}, parameters])


def _sometimes_a_known_type(context: HookContext, body: Any) -> Any:
    """A random import form, or (about half the time) one with a name, and a type and an
    encoding that exist, so that the import is made and its file stored."""
    operation = context.operation
    if operation is None or (operation.method.upper(), operation.path) != CREATE_IMPORT:
        return st.just(body)
    if not isinstance(body, dict):
        return st.just(body)
    # The document does not say that a name needs a character other than spaces; and names
    # are unique in an app.
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 150:
        name = "fuzzed"
    known = st.sampled_from([t.key for t in all_types()]).map(
        lambda key: {**body, "name": f"{name} {next(_NUMBERS)}", "type": key}
    )
    if "encoding" in body:
        known = known.flatmap(
            lambda form: st.sampled_from(list(ENCODINGS)).map(
                lambda encoding: {**form, "encoding": encoding}
            )
        )
    return st.one_of(known, st.just(body))


def _aim(case: Case[Any]) -> None:
    """Give the explicit examples' marked path parameters their values; and in the coverage
    cases, pin the path parameters and leave out the optional headers, but for the one the case
    is about (a coverage case varies one thing; the others take their first value, an empty
    Idempotency-Key for one, which would answer every case of its operation with the same 422)."""
    about: tuple[str, str | None] = ("", None)
    covering = case.meta is not None and case.meta.phase.name is TestPhase.COVERAGE
    if case.meta is not None and covering:
        data = case.meta.phase.data
        location = data.parameter_location
        about = ((data.parameter or "").lower(), None if location is None else location.value)
    parameters = case.path_parameters or {}
    for name, value in parameters.items():
        if value == PINNED or (covering and name in PINS and about != (name, "path")):
            parameters[name] = PINS.get(name, NO_SUCH_ID)
    if covering and case.headers:
        # Coverage also tries the methods an operation does not allow, which the document lacks.
        operation = OPENAPI["paths"][case.path].get(case.method.lower(), {})
        for parameter in operation.get("parameters", []):
            name = parameter["name"]
            if (
                parameter["in"] == "header"
                and not parameter.get("required")
                and about != (name.lower(), "header")
            ):
                case.headers.pop(name, None)


# The decorator's type is not known to mypy: registered by calls instead.
schema.hooks.hook("before_add_examples")(_add_dangerous_examples)
schema.hooks.hook("flatmap_path_parameters")(_sometimes_what_exists)
schema.hooks.hook("flatmap_body")(_sometimes_a_known_type)


# --- The test -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    admin: AdminSetup
    session_cookie: str

    def headers_for(self, case: Case[Any]) -> dict[str, str]:
        if (case.method.upper(), case.path) in SESSION_ONLY:
            return {"Cookie": f"{SESSION_COOKIE}={self.session_cookie}"}
        return self.admin.headers


@pytest.fixture
async def caller(
    client: AsyncClient, sessionmaker: async_sessionmaker[AsyncSession], settings: Settings
) -> Caller:
    admin = await admin_setup(sessionmaker, slug=SLUG)
    owner = await make_user(sessionmaker, "owner@example.org", owner=True)
    async with unit_of_work(sessionmaker) as session:
        cookie = await auth_service.start_session(session, owner, settings)
    draft = await client.post(
        f"/api/apps/{SLUG}/imports",
        data={"name": "draft", "type": "cases.add"},
        headers=admin.headers,
    )
    assert draft.status_code == 201, draft.text
    PINS["import_id"] = draft.json()["id"]
    return Caller(admin, cookie)


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # The fixtures are made once per operation, for all its examples, on purpose.
    suppress_health_check=list(HealthCheck),
)
async def test_no_request_answers_a_server_error(
    case: Case[Any], client: AsyncClient, caller: Caller
) -> None:
    _aim(case)
    kwargs = case.as_transport_kwargs(
        base_url="http://testserver", headers=caller.headers_for(case)
    )
    # The request as it goes on the wire (schemathesis serializes for requests), sent through
    # the suite's own client, in the suite's event loop.
    sent = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=kwargs.get("headers"),
        params=kwargs.get("params"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
        files=kwargs.get("files"),
    ).prepare()
    body = sent.body.encode() if isinstance(sent.body, str) else sent.body
    assert body is None or isinstance(body, bytes)
    response = await client.request(
        sent.method or "GET",
        sent.url or "",
        headers={name: str(value) for name, value in sent.headers.items()},
        content=body,
    )
    # A login's cookie must not follow the next requests (nor would a logout's clearing).
    client.cookies.clear()
    case.validate_response(response, checks=[not_a_server_error])
