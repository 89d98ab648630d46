"""The template of the route a request matched (``/api/apps/{app}/imports/{import_id}``), not
its path with the ids in it: what logs and dashboards group requests by.

Since FastAPI 0.16x an included router keeps its routes with their own paths (without the
prefix, ``scope["route"].path_format`` is ``/apps/{app}/...``); the full templates come from
``fastapi.routing.iter_route_contexts``, the walk its OpenAPI document is built from. Earlier
versions keep the full path on the route itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from weakref import WeakKeyDictionary

from starlette.types import Scope

# Per application: the id of each route object → its full template. Routes are fixed once the
# app serves requests, so the walk is done once.
_TEMPLATES: WeakKeyDictionary[Any, dict[int, str]] = WeakKeyDictionary()


def route_template(scope: Scope) -> str | None:
    """The matched route's template, or None when no route matched (a 404)."""
    route = scope.get("route")
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
    return {
        id(context.original_route): context.path_format
        for context in iter_route_contexts(list(routes))
        if context.path_format is not None
    }
