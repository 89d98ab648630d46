"""The caller as the SPA shows them: who they are, and the apps they may use, in which role."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.service import AppRole, accessible_apps
from api.auth.principal import Principal


@dataclass(frozen=True, slots=True)
class Account:
    email: str
    is_owner: bool
    apps: list[AppRole]


async def account_of(session: AsyncSession, principal: Principal) -> Account:
    apps = await accessible_apps(session, principal)
    return Account(email=principal.email, is_owner=principal.is_owner, apps=apps)
