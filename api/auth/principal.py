"""Who is calling: the signed-in user, or a user acting through one app's API token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: uuid.UUID
    email: str
    is_owner: bool
    via: Literal["session", "token"]
    # A token belongs to one app: the caller sees only that app through it.
    token_app_id: uuid.UUID | None = None
    token_id: uuid.UUID | None = None
    token_prefix: str | None = None
    # The client address as the app sees it (a trusted proxy's client); None outside a request.
    address: str | None = None


Role = Literal["admin", "viewer"]


@dataclass(frozen=True, slots=True)
class AppAccess:
    """The caller's access to one app, resolved from the path's slug."""

    app_id: uuid.UUID
    slug: str
    name: str
    role: Role
    principal: Principal

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
