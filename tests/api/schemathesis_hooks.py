"""Schemathesis hooks for tests/api/test_openapi_conformance.py (loaded by the CLI it runs).

Two inputs that a schema can describe only by their shape, and whose valid values the service
alone makes: a request that schemathesis means as valid gets them as a real client would.
"""

from __future__ import annotations

import uuid
from typing import Any

import schemathesis
from schemathesis import Case, HookContext


@schemathesis.hook
def before_call(context: HookContext, case: Case[Any], kwargs: dict[str, Any]) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    # A cursor is an opaque token from an earlier page's next_cursor; one made up is refused
    # (422 invalid_cursor) however well it fits the schema's "string".
    if case.query and "cursor" in case.query:
        del case.query["cursor"]
    # A key names one import for a day: sent again with another form it is refused (422
    # idempotency_key_reused), as the API promises. Each valid request is a new one here.
    if case.headers:
        for name in list(case.headers):
            if name.lower() == "idempotency-key":
                case.headers[name] = str(uuid.uuid4())
