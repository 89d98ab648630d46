"""The caller's access to the app named by a route's ``{app}`` path parameter."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from api.apps import service
from api.auth.deps import PrincipalDep
from api.auth.principal import AppAccess
from api.deps import SessionDep


async def app_access(app: str, principal: PrincipalDep, session: SessionDep) -> AppAccess:
    """Any role in the app; an app the caller may not see answers 404."""
    return await service.resolve_access(session, principal, app)


async def admin_access(access: Annotated[AppAccess, Depends(app_access)]) -> AppAccess:
    """The admin role in the app, or 403."""
    service.require_admin(access)
    return access


AppAccessDep = Annotated[AppAccess, Depends(app_access)]
AdminAccessDep = Annotated[AppAccess, Depends(admin_access)]
