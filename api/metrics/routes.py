"""The route template a request matched (``/api/apps/{app}/imports/{import_id}``), never its
raw path: one label value per route, however many apps and imports there are."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import fastapi.routing
from starlette.routing import BaseRoute
from starlette.types import Scope

# A request no route matched (a refusal by a middleware before routing).
UNMATCHED = "unmatched"

# FastAPI keeps an included router's routes under it, each with its path inside the router
# (``/apps/{app}``): its route contexts give the whole path. Older FastAPI copied the routes up,
# whole paths included, and has no such function.
_route_contexts: Callable[[Sequence[BaseRoute]], Iterable[Any]] | None = getattr(
    fastapi.routing, "iter_route_contexts", None
)


def _templates(routes: Sequence[BaseRoute]) -> dict[int, tuple[object, str]]:
    """Every route's template by the route's identity, and by its endpoint's (what a request
    routed by a plain Route or a Mount leaves in its scope); the key object kept beside, so
    that its id stays its own."""
    if _route_contexts is None:
        found = [(route, _path_of(route)) for route in routes]
    else:
        found = [(rc.original_route, _path_of(rc)) for rc in _route_contexts(routes)]
    templates: dict[int, tuple[object, str]] = {}
    for route, path in found:
        if path is None:
            continue
        endpoint = getattr(route, "endpoint", None) or getattr(route, "app", None)
        for key in (endpoint, route):
            if key is not None:
                templates[id(key)] = (key, path)
    return templates


def _path_of(route: object) -> str | None:
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return path if isinstance(path, str) else None


class RouteTemplates:
    """The templates of one app's routes, read from the app the first time they are needed."""

    def __init__(self) -> None:
        self._by_route: dict[int, tuple[object, str]] = {}

    def of(self, scope: Scope) -> str:
        # FastAPI names the route of a request routed by an included router; Starlette's
        # routing of a Mount or a plain Route leaves only the endpoint.
        matched = scope.get("route") or scope.get("endpoint")
        if matched is None:
            return UNMATCHED
        known = self._by_route.get(id(matched))
        if known is None:
            # First use, or a route added since: read them all again.
            self._by_route = _templates(getattr(scope.get("app"), "routes", []))
            known = self._by_route.get(id(matched))
            if known is None:
                known = (matched, _path_of(matched) or UNMATCHED)
                self._by_route[id(matched)] = known
        return known[1]
