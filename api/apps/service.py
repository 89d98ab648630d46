"""Apps (the tenants), who may use them, and in which role."""

from __future__ import annotations

import functools
import re
import uuid
from dataclasses import dataclass
from typing import Any, cast, get_args

from sqlalchemy import ColumnElement, Select, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.apps.models import App, Membership
from api.audit import service as audit
from api.audit.actions import AuditAction
from api.auth import service as auth_service
from api.auth.models import ApiToken, User
from api.auth.principal import AppAccess, Principal, Role
from api.cases.models import Case
from api.errors import Conflict, Forbidden, NotFound, Unprocessable

# The same rule as the apps table's check constraint.
SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
MAX_SLUG_LENGTH = 64
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True, slots=True)
class AppRole:
    slug: str
    name: str
    role: Role


@dataclass(frozen=True, slots=True)
class AppSummary:
    """An app as the caller sees it in the list: their role and the app's case counts."""

    slug: str
    name: str
    role: Role
    total: int
    active: int
    closed: int


def _app_not_found(slug: str) -> NotFound:
    return NotFound(f"There is no app {slug!r}, or you have no access to it.", code="app_not_found")


def _require_session(principal: Principal, action: str) -> None:
    # A leaked token must not become a lasting foothold: tokens it made would outlive its revoking.
    if principal.via != "session":
        raise Forbidden(f"Sign in to {action}: API tokens cannot do it.", code="session_required")


def require_admin(access: AppAccess) -> None:
    """The admin role in the app. A viewer knows the app exists, so 403 tells them nothing new."""
    if not access.is_admin:
        raise Forbidden("This needs the admin role in this app.", code="admin_required")


async def create_app_as(
    session: AsyncSession, principal: Principal, slug: str, name: str
) -> AppSummary:
    """A new app made by a signed-in owner, as its creator sees it (an owner is admin of it)."""
    _require_session(principal, "create an app")
    if not principal.is_owner:
        raise Forbidden("Only an owner may create apps.", code="owner_required")
    app = await create_app(session, slug, name, actor=principal)
    return AppSummary(app.slug, app.name, "admin", total=0, active=0, closed=0)


async def create_app(
    session: AsyncSession, slug: str, name: str, *, actor: Principal | None = None
) -> App:
    """A new app; ``actor`` is who made it, for the audit log (None: the command line)."""
    if len(slug) > MAX_SLUG_LENGTH or not SLUG.fullmatch(slug):
        raise Unprocessable(
            "A slug is lower-case letters and digits, in groups joined by single hyphens"
            f" (for example field-ops), at most {MAX_SLUG_LENGTH} characters.",
            code="invalid_slug",
        )
    name = name.strip()
    if not name or len(name) > 200:
        raise Unprocessable("An app needs a name of 1 to 200 characters.", code="invalid_name")
    if await app_by_slug(session, slug) is not None:
        raise Conflict(f"An app {slug!r} exists already.", code="app_exists")
    app = App(slug=slug, name=name)
    session.add(app)
    try:
        await session.flush()
    except IntegrityError as exc:  # created by a concurrent request since the check above
        raise Conflict(f"An app {slug!r} exists already.", code="app_exists") from exc
    await audit.record(
        session,
        AuditAction.APP_CREATED,
        actor=actor,
        app_id=app.id,
        target=slug,
        details={"name": app.name},
    )
    return app


async def app_by_slug(session: AsyncSession, slug: str) -> App | None:
    result = await session.execute(select(App).where(App.slug == slug))
    return result.scalar_one_or_none()


async def grant(
    session: AsyncSession, email: str, slug: str, role: str, *, actor: Principal | None = None
) -> None:
    """Give a user a role in an app, replacing the role they had there. ``actor`` is who gave
    it, for the audit log (None: the command line, the only place that grants today)."""
    if role not in ROLES:
        raise Unprocessable(f"A role is one of {', '.join(ROLES)}.", code="invalid_role")
    user = await auth_service.get_user_by_email(session, email)
    app = await app_by_slug(session, slug)
    if app is None:
        raise NotFound(f"There is no app {slug!r}.", code="app_not_found")
    statement = insert(Membership).values(user_id=user.id, app_id=app.id, role=role)
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=[Membership.user_id, Membership.app_id],
            set_={"role": statement.excluded.role},
        )
    )
    await audit.record(
        session,
        AuditAction.APP_GRANTED,
        actor=actor,
        app_id=app.id,
        target=user.email,
        details={"role": role},
    )


# The statements below are built once per kind of caller (owner or not, through a token or not)
# with the caller's ids as parameters, and on the tables rather than the mapped classes (rows,
# not objects): building a statement, and the ORM's handling of it, cost more Python than
# running it, and every request resolves the caller's access to its app.
_APPS = App.__table__.c
_MEMBERSHIPS = Membership.__table__.c


@functools.cache
def _apps_query(is_owner: bool, scoped: bool) -> Select[uuid.UUID, str, str, str]:
    """The apps the caller may see: id, slug, name, and the role column, which is None for an
    owner's apps without a membership (an outer join). Run with ``_caller``'s parameters."""
    joined = (_MEMBERSHIPS.app_id == _APPS.id) & (_MEMBERSHIPS.user_id == bindparam("user_id"))
    may_see: ColumnElement[bool] = true() if is_owner else _MEMBERSHIPS.role.is_not(None)
    if scoped:
        # A token belongs to one app: through it, even an owner sees only that app.
        may_see = may_see & (_APPS.id == bindparam("token_app_id"))
    return (
        select(_APPS.id, _APPS.slug, _APPS.name, _MEMBERSHIPS.role)
        .select_from(App.__table__.outerjoin(Membership.__table__, joined))
        .where(may_see)
    )


@functools.cache
def _access_query(is_owner: bool, scoped: bool) -> Select[uuid.UUID, str, str, str]:
    return _apps_query(is_owner, scoped).where(_APPS.slug == bindparam("slug"))


def _caller(principal: Principal) -> dict[str, Any]:
    return {"user_id": principal.user_id, "token_app_id": principal.token_app_id}


def _kind(principal: Principal) -> tuple[bool, bool]:
    return principal.is_owner, principal.token_app_id is not None


def _role(principal: Principal, membership_role: str | None) -> Role:
    # An owner is admin of every app; otherwise the filter above guarantees a membership.
    return "admin" if principal.is_owner else cast(Role, membership_role)


async def resolve_access(session: AsyncSession, principal: Principal, slug: str) -> AppAccess:
    """The caller's access to the app named in a path, or NotFound (never Forbidden), so that
    the apps of other tenants cannot be told apart from apps that do not exist."""
    result = await session.execute(
        _access_query(*_kind(principal)), {**_caller(principal), "slug": slug}
    )
    row = result.one_or_none()
    if row is None:
        raise _app_not_found(slug)
    app_id, app_slug, name, role = row
    return AppAccess(
        app_id=app_id, slug=app_slug, name=name, role=_role(principal, role), principal=principal
    )


async def roles_by_user(session: AsyncSession) -> dict[uuid.UUID, list[tuple[str, str]]]:
    """Every user's (app slug, role) pairs, for an operator's list of users."""
    rows = await session.execute(
        select(Membership.user_id, App.slug, Membership.role)
        .join(App, App.id == Membership.app_id)
        .order_by(App.slug)
    )
    roles: dict[uuid.UUID, list[tuple[str, str]]] = {}
    for user_id, slug, role in rows.all():
        roles.setdefault(user_id, []).append((slug, role))
    return roles


async def required_app(session: AsyncSession, slug: str) -> App:
    app = await app_by_slug(session, slug)
    if app is None:
        raise NotFound(f"There is no app {slug!r}.", code="app_not_found")
    return app


async def role_in_app(session: AsyncSession, user_id: uuid.UUID, app_id: uuid.UUID) -> Role | None:
    """The user's own role in an app (an owner's is admin); None when they have none."""
    user = await session.get(User, user_id)
    if user is None:
        return None
    if user.is_owner:
        return "admin"
    membership = await session.get(Membership, (user_id, app_id))
    return None if membership is None else cast(Role, membership.role)


async def accessible_apps(session: AsyncSession, principal: Principal) -> list[AppRole]:
    """The apps the caller may see, with their role: cheap enough for every /auth/me."""
    result = await session.execute(
        _apps_query(*_kind(principal)).order_by(_APPS.name, _APPS.slug), _caller(principal)
    )
    return [
        AppRole(slug=slug, name=name, role=_role(principal, role)) for _, slug, name, role in result
    ]


async def visible_apps(
    session: AsyncSession, principal: Principal, *, slug: str | None = None
) -> list[AppSummary]:
    """The apps the caller may see (or just the one named), with case counts, in one grouped
    query: the counts of all apps at once, rather than a query per app."""
    query = _apps_query(*_kind(principal))
    if slug is not None:
        query = query.where(_APPS.slug == slug)
    apps = query.subquery()
    active = func.count(Case.id).filter(Case.case_status == 1)
    closed = func.count(Case.id).filter(Case.case_status == 0)
    result = await session.execute(
        select(apps.c.slug, apps.c.name, apps.c.role, func.count(Case.id), active, closed)
        .outerjoin(Case, Case.app_id == apps.c.id)
        .group_by(apps.c.id, apps.c.slug, apps.c.name, apps.c.role)
        .order_by(apps.c.name, apps.c.slug),
        _caller(principal),
    )
    return [
        AppSummary(
            slug=slug,
            name=name,
            role=_role(principal, role),
            total=total,
            active=n_active,
            closed=n_closed,
        )
        for slug, name, role, total, n_active, n_closed in result
    ]


async def app_summary(session: AsyncSession, access: AppAccess) -> AppSummary:
    # resolve_access has checked that the caller may see it, so the narrowed list holds it.
    (app,) = await visible_apps(session, access.principal, slug=access.slug)
    return app


# --- the app's API tokens ----------------------------------------------------------------------


async def app_tokens(session: AsyncSession, access: AppAccess) -> list[ApiToken]:
    return await auth_service.list_tokens(session, access.app_id)


async def create_app_token(
    session: AsyncSession, access: AppAccess, name: str, expires_days: int | None
) -> tuple[ApiToken, str]:
    """A token of the caller for the app, and its secret (shown once)."""
    _require_session(access.principal, "create API tokens")
    return await auth_service.create_token(
        session, access.principal.user_id, access.app_id, name, expires_days, actor=access.principal
    )


async def revoke_app_token(session: AsyncSession, access: AppAccess, token_id: uuid.UUID) -> None:
    await auth_service.revoke_token(session, access.app_id, token_id, actor=access.principal)
