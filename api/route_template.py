"""The template of the route a request matched (``/api/apps/{app}/imports/{import_id}``), not
its path with the ids in it: what logs and dashboards group requests by.

Since FastAPI 0.16x an included router keeps its routes with their own paths (without the
prefix, ``scope["route"].path_format`` is ``/apps/{app}/...``); the full templates come from
``fastapi.routing.iter_route_contexts``, the walk its OpenAPI document is built from. Earlier
versions keep the full path on the route itself. FastAPI's router names the route only of a
request an included router served: one that a Mount (the SPA's files at ``/``) or a plain Route
(the OpenAPI document) served leaves its endpoint in the scope, found by the same walk.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

from starlette.types import Scope

# Per application: the id of each route object, and of its endpoint → its full template. Routes
# are fixed once the app serves requests, so the walk is done once.
_TEMPLATES: WeakKeyDictionary[Any, dict[int, str]] = WeakKeyDictionary()


def route_template(scope: Scope) -> str | None:
    """The matched route's template, or None when no route matched (a 404)."""
    route = scope.get("route") or scope.get("endpoint")
    if route is None:
        return None
    app = scope.get("app")
    templates = _TEMPLATES.get(app) if app is not None else None
    if templates is None and app is not None:
        templates = _TEMPLATES[app] = _walk(getattr(app, "routes", ()))
    found = (templates or {}).get(id(route)) or getattr(route, "path_format", None)
    return found if isinstance(found, str) else None


def _walk(routes: Iterable[Any]) -> dict[int, str]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # FastAPI before 0.16x: route.path_format is the full template
        return {}
    templates = {}
    for context in iter_route_contexts(list(routes)):
        route = context.original_route
        if context.path_format is not None:
            # A Mount's endpoint is its app.
            for key in (getattr(route, "endpoint", None) or getattr(route, "app", None), route):
                if key is not None:
                    templates[id(key)] = context.path_format
    return templates
