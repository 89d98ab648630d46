"""The SPA's files at ``/``, mounted so that it never answers for the API's own paths."""

from __future__ import annotations

from pathlib import Path

from starlette.routing import Match, Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

API_PREFIX = "/api"


class FrontendMount(Mount):
    """A mount at ``/`` that matches only partially, as a route with another method does: the
    router then prefers any route's partial match (405 with ``Allow`` for a wrong method on
    ``/api/apps``, ``/healthz``), and under ``/api`` it does not match at all (an unknown API path
    answers the API's 404, not the SPA's)."""

    def __init__(self, directory: Path) -> None:
        super().__init__("/", StaticFiles(directory=directory, html=True), name="frontend")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        path = str(scope.get("path", "")).removeprefix(str(scope.get("root_path", "")))
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            return Match.NONE, {}
        match, child_scope = super().matches(scope)
        return (Match.PARTIAL if match is Match.FULL else match), child_scope
