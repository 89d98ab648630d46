from __future__ import annotations

from pydantic import BaseModel, Field

from api.auth.principal import Role


class LoginIn(BaseModel):
    email: str = Field(max_length=320)
    # Bounded: argon2 would hash a megabyte-long "password" too, at the server's expense.
    password: str = Field(max_length=1024)


class UserApp(BaseModel):
    slug: str
    name: str
    role: Role


class UserOut(BaseModel):
    email: str
    is_owner: bool
    apps: list[UserApp]
