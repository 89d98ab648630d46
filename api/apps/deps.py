"""The caller's access to the app named by a route's ``{app}`` path parameter."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Request

from api.apps import service
from api.auth.deps import PrincipalDep
from api.auth.principal import AppAccess
from api.deps import SessionDep
from api.logs import bind


async def app_access(
    app: str, principal: PrincipalDep, session: SessionDep, request: Request
) -> AppAccess:
    """Any role in the app; an app the caller may not see answers 404."""
    access = await service.resolve_access(session, principal, app)
    # Every line logged for the rest of the request names the app, and the import in the path.
    bind(app_id=access.app_id, import_id=_import_in_path(request))
    return access


def _import_in_path(request: Request) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.path_params["import_id"])
    except (KeyError, ValueError):
        return None


async def admin_access(access: Annotated[AppAccess, Depends(app_access)]) -> AppAccess:
    """The admin role in the app, or 403."""
    service.require_admin(access)
    return access


AppAccessDep = Annotated[AppAccess, Depends(app_access)]
AdminAccessDep = Annotated[AppAccess, Depends(admin_access)]
