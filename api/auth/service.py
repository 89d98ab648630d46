"""People, sign-ins, sessions and API tokens.

Services only ``flush()``: the caller's unit of work commits (or rolls back) everything at once.
"""

from __future__ import annotations

import asyncio
import math
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from api.audit import service as audit
from api.audit.actions import AuditAction
from api.auth import passwords, tokens
from api.auth.models import ApiToken, LoginFailure, User, UserSession
from api.auth.principal import Principal
from api.config import Settings
from api.errors import Conflict, NotFound, TooManyRequests, Unauthorized, Unprocessable

MIN_PASSWORD_LENGTH = 8
MAX_EMAIL_LENGTH = 320
MAX_TOKEN_DAYS = 3650
# A token's last use is shown to admins; writing it on every request would make each scripted call
# a write, so it is refreshed at most this often.
LAST_USED_RESOLUTION = timedelta(minutes=1)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
_KEY_LENGTH = 400  # login_failures.key


def normalize_email(email: str) -> str:
    return email.strip().lower()


def _now() -> datetime:
    return datetime.now(UTC)


# --- people ---------------------------------------------------------------------------------


def _new_password(password: str | None) -> str:
    """The password given (when long enough), or a generated one for the CLI to print once."""
    if password is None:
        return secrets.token_urlsafe(15)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Unprocessable(
            f"The password is too short: use at least {MIN_PASSWORD_LENGTH} characters.",
            code="password_too_short",
        )
    return password


async def create_user(
    session: AsyncSession, email: str, password: str | None = None, *, owner: bool = False
) -> tuple[User, str]:
    """A new user and their password (generated when none is given, for the CLI to print once)."""
    email = normalize_email(email)
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise Unprocessable(f"{email!r} is not an email address.", code="invalid_email")
    password = _new_password(password)
    if await user_by_email(session, email) is not None:
        raise Conflict(f"A user with the email {email} exists already.", code="email_taken")
    password_hash = await asyncio.to_thread(passwords.hash_password, password)
    user = User(email=email, password_hash=password_hash, is_owner=owner)
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:  # the same email, created by a concurrent request
        raise Conflict(
            f"A user with the email {email} exists already.", code="email_taken"
        ) from exc
    return user, password


async def set_password(session: AsyncSession, email: str, password: str | None = None) -> str:
    """A new password for a user (generated when none is given); their sessions end, so a
    lost or leaked password stops working everywhere at once."""
    user = await get_user_by_email(session, email)
    password = _new_password(password)
    user.password_hash = await asyncio.to_thread(passwords.hash_password, password)
    await session.execute(delete(UserSession).where(UserSession.user_id == user.id))
    await session.flush()
    return password


async def all_users(session: AsyncSession) -> list[User]:
    return list((await session.execute(select(User).order_by(User.email))).scalars())


async def user_by_email(session: AsyncSession, email: str) -> User | None:
    result = await session.execute(select(User).where(User.email == normalize_email(email)))
    return result.scalar_one_or_none()


async def get_user_by_email(session: AsyncSession, email: str) -> User:
    user = await user_by_email(session, email)
    if user is None:
        raise NotFound(
            f"There is no user with the email {normalize_email(email)}.", code="user_not_found"
        )
    return user


# --- signing in -----------------------------------------------------------------------------


# One address may fail this many times more across accounts than on one account: people behind
# one NAT share an address, and a spray of one password over many accounts still stops.
ADDRESS_FAILURES_FACTOR = 4


@dataclass(frozen=True, slots=True)
class _Keys:
    """What one sign-in attempt's failures are counted under (login_failures.key).

    Unknown emails are counted like known ones, so the throttle does not reveal which accounts
    exist.
    """

    # Every failure on the account, from anywhere: slows its sign-ins down, never refuses them,
    # or anyone could lock its owner out by failing on purpose.
    account: str
    # Failures from this address on this account: refused past the limit (guessing).
    pair: str
    # Failures from this address on any account: refused past a higher limit (spraying).
    address: str

    @classmethod
    def of(cls, email: str, client_ip: str) -> _Keys:
        return cls(
            account=f"account:{email}"[:_KEY_LENGTH],
            pair=f"account:{email} address:{client_ip}"[:_KEY_LENGTH],
            address=f"address:{client_ip}"[:_KEY_LENGTH],
        )

    def limits(self, settings: Settings) -> dict[str, int]:
        """The refusing keys, each with the failures it may have in the window."""
        most = settings.login_max_failures
        return {self.pair: most, self.address: most * ADDRESS_FAILURES_FACTOR}


async def authenticate(
    session: AsyncSession, email: str, password: str, client_ip: str, settings: Settings
) -> User:
    """The user with these credentials; TooManyRequests while this address is throttled; else
    Unauthorized. An account under attack from many addresses is slowed down, not locked.

    Call it before anything is written in the unit of work (a slowed attempt ends the
    transaction so far, to wait without holding a connection). The Unauthorized keeps its
    changes: the unit of work commits the counted failure despite the refusal, or the throttle
    would never trip.
    """
    email = normalize_email(email)
    keys = _Keys.of(email, client_ip)
    limits = keys.limits(settings)
    # Refused at once while throttled, without queueing behind the locks below.
    failures = await _recent_failures(session, [keys.account, *limits], settings)
    _refuse_when_throttled(failures, limits)
    if len(failures.get(keys.account, ())) >= settings.login_max_failures:
        # Nothing is written yet: ending the read-only transaction gives the connection back
        # for the wait, so that slowed guesses cannot tie up the pool.
        await session.rollback()
        await asyncio.sleep(settings.login_slowdown_seconds)
    # Concurrent attempts from the same address take turns from here until this transaction
    # ends, so a burst of parallel guesses cannot all pass the count: each counts again once it
    # is its turn. The account is not locked: its owner would queue behind an attacker's burst.
    for key in sorted(limits):
        await session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(key, 0))))
    _refuse_when_throttled(await _recent_failures(session, list(limits), settings), limits)

    user = await user_by_email(session, email)
    if user is None:
        await asyncio.to_thread(passwords.verify_dummy, password)
        ok = False
    else:
        ok = await asyncio.to_thread(passwords.verify_password, user.password_hash, password)
    if user is None or not ok:
        await _record_failure(session, [keys.account, *limits], settings)
        await audit.record_failed_sign_in(session, email, client_ip)
        raise Unauthorized(
            "Wrong email or password.", code="invalid_credentials", keeps_changes=True
        )

    if passwords.needs_rehash(user.password_hash):
        user.password_hash = await asyncio.to_thread(passwords.hash_password, password)
    # This address's count on the account starts again after a success. The account's does
    # not (an attack from elsewhere goes on being slowed down), nor the address's (or one
    # known password would let an address keep guessing at other accounts).
    await session.execute(delete(LoginFailure).where(LoginFailure.key == keys.pair))
    await session.flush()
    return user


async def _recent_failures(
    session: AsyncSession, keys: list[str], settings: Settings
) -> dict[str, list[float]]:
    """Each key's failures in the window, as the seconds until each leaves it, soonest first."""
    window = timedelta(seconds=settings.login_window_seconds)
    # By the database's clock (the one that stamped failed_at).
    remaining = func.extract("epoch", LoginFailure.failed_at + window - func.now())
    rows = await session.execute(
        select(LoginFailure.key, remaining)
        .where(LoginFailure.key.in_(keys), LoginFailure.failed_at > func.now() - window)
        .order_by(remaining)
    )
    by_key: dict[str, list[float]] = {}
    for key, seconds in rows:
        by_key.setdefault(key, []).append(float(seconds))
    return by_key


def _refuse_when_throttled(failures: dict[str, list[float]], limits: dict[str, int]) -> None:
    waits = [
        # Below the limit again once the oldest (len - limit + 1) failures have left the window.
        seconds[len(seconds) - limits[key]]
        for key, seconds in failures.items()
        if key in limits and len(seconds) >= limits[key]
    ]
    if waits:
        retry_after = max(1, math.ceil(max(waits)))
        raise TooManyRequests(
            f"Too many failed sign-ins; try again in {retry_after} seconds.",
            code="too_many_attempts",
            headers={"Retry-After": str(retry_after)},
        )


async def _record_failure(session: AsyncSession, keys: list[str], settings: Settings) -> None:
    window = timedelta(seconds=settings.login_window_seconds)
    # Old failures of these keys are of no more use: the table stays small without a sweeper.
    await session.execute(
        delete(LoginFailure).where(
            LoginFailure.key.in_(keys), LoginFailure.failed_at <= func.now() - window
        )
    )
    session.add_all([LoginFailure(key=key) for key in keys])
    await session.flush()


# --- sessions -------------------------------------------------------------------------------


async def sign_in(
    session: AsyncSession,
    email: str,
    password: str,
    client_ip: str,
    settings: Settings,
    *,
    previous: str | None = None,
) -> tuple[Principal, str]:
    """Authenticate, end the browser's ``previous`` sign-in, and start a new one: the caller and
    the new cookie value."""
    user = await authenticate(session, email, password, client_ip, settings)
    if previous:
        await end_session(session, previous)
    value = await start_session(session, user, settings)
    principal = principal_for_user(user, client_ip)
    await audit.record(session, AuditAction.SIGN_IN, actor=principal)
    return principal, value


async def start_session(session: AsyncSession, user: User, settings: Settings) -> str:
    """A new sign-in for ``user``; the answer is the cookie value (only its hash is stored)."""
    value = tokens.new_secret()
    # Housekeeping on the way in keeps expired sign-ins from piling up.
    await session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= _now())
    )
    session.add(
        UserSession(
            token_hash=tokens.hash_secret(value),
            user_id=user.id,
            expires_at=_now() + timedelta(hours=settings.session_hours),
        )
    )
    await session.flush()
    return value


async def end_session(session: AsyncSession, cookie_value: str) -> None:
    await session.execute(
        delete(UserSession).where(UserSession.token_hash == tokens.hash_secret(cookie_value))
    )


async def principal_from_session(
    session: AsyncSession, cookie_value: str, address: str | None = None
) -> Principal | None:
    result = await session.execute(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(
            UserSession.token_hash == tokens.hash_secret(cookie_value),
            UserSession.expires_at > func.now(),
        )
    )
    user = result.scalar_one_or_none()
    return None if user is None else principal_for_user(user, address)


def principal_for_user(user: User, address: str | None = None) -> Principal:
    """The principal of a user who has just signed in."""
    return Principal(
        user_id=user.id, email=user.email, is_owner=user.is_owner, via="session", address=address
    )


# --- API tokens -----------------------------------------------------------------------------


# Built once, on the tables (rows, not objects): every request with a token runs them, and
# building a statement, and the ORM's handling of it, cost more Python than running it.
_TOKENS = ApiToken.__table__.c
_USERS = User.__table__.c
_TOKEN_CALLER = (
    select(
        _TOKENS.id,
        _TOKENS.prefix,
        _TOKENS.app_id,
        _TOKENS.last_used_at,
        _USERS.id,
        _USERS.email,
        _USERS.is_owner,
        func.now(),
    )
    .select_from(ApiToken.__table__.join(User.__table__, _USERS.id == _TOKENS.user_id))
    .where(
        _TOKENS.token_hash == bindparam("token_hash"),
        _TOKENS.revoked_at.is_(None),
        or_(_TOKENS.expires_at.is_(None), _TOKENS.expires_at > func.now()),
    )
)
# Bookkeeping must never wait: in a write request the row lock lasts as long as its transaction
# (a whole upload), so a token busy elsewhere is skipped rather than waited for.
_TOUCH_TOKEN = (
    update(ApiToken)
    .where(
        ApiToken.id
        == select(ApiToken.id)
        .where(ApiToken.id == bindparam("token_id"))
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    .values(last_used_at=bindparam("used_at"))
)


async def principal_from_token(
    session: AsyncSession, bearer: str, address: str | None = None
) -> Principal | None:
    """The caller behind a bearer token; None when it is unknown, revoked or expired."""
    if not tokens.looks_like_api_token(bearer):
        return None
    found = (
        await session.execute(_TOKEN_CALLER, {"token_hash": tokens.hash_secret(bearer)})
    ).one_or_none()
    if found is None:
        return None
    token_id, prefix, token_app_id, last_used_at, user_id, email, is_owner, now = found
    if last_used_at is None or last_used_at < now - LAST_USED_RESOLUTION:
        await session.execute(_TOUCH_TOKEN, {"token_id": token_id, "used_at": now})
    return Principal(
        user_id=user_id,
        email=email,
        is_owner=is_owner,
        via="token",
        token_app_id=token_app_id,
        token_id=token_id,
        token_prefix=prefix,
        address=address,
    )


async def create_token(
    session: AsyncSession,
    user_id: uuid.UUID,
    app_id: uuid.UUID,
    name: str,
    expires_days: int | None,
    *,
    actor: Principal | None = None,
) -> tuple[ApiToken, str]:
    """A new token and its secret, which is returned here once and never stored. ``actor`` is
    who made it, for the audit log (None: the command line)."""
    name = name.strip()
    if not name or len(name) > 100:
        raise Unprocessable("A token needs a name of 1 to 100 characters.", code="invalid_name")
    if expires_days is not None and not 1 <= expires_days <= MAX_TOKEN_DAYS:
        raise Unprocessable(
            f"expires_days must be between 1 and {MAX_TOKEN_DAYS}.", code="invalid_expiry"
        )
    new = tokens.new_api_token()
    # Set here rather than by the database, so the answer can show them without a reload.
    created_at = _now()
    token = ApiToken(
        user_id=user_id,
        app_id=app_id,
        name=name,
        prefix=new.prefix,
        token_hash=new.token_hash,
        created_at=created_at,
        expires_at=None if expires_days is None else created_at + timedelta(days=expires_days),
    )
    session.add(token)
    await session.flush()
    # Whose token it is: the command line makes tokens for others.
    holder = await session.get(User, user_id)
    await audit.record(
        session,
        AuditAction.TOKEN_CREATED,
        actor=actor,
        app_id=app_id,
        target=token.id,
        details={"name": name, "prefix": token.prefix, "user": holder and holder.email},
    )
    return token, new.token


async def list_tokens(session: AsyncSession, app_id: uuid.UUID) -> list[ApiToken]:
    """The app's tokens that are not revoked (expired ones too, so admins see why one fails)."""
    result = await session.execute(
        select(ApiToken)
        .where(ApiToken.app_id == app_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id)
    )
    return list(result.scalars())


async def tokens_with_users(session: AsyncSession, app_id: uuid.UUID) -> list[tuple[ApiToken, str]]:
    """The app's tokens that are not revoked, each with its user's email."""
    result = await session.execute(
        select(ApiToken, User.email)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.app_id == app_id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id)
    )
    return [(token, email) for token, email in result.all()]


async def revoke_token(
    session: AsyncSession,
    app_id: uuid.UUID,
    token_id: uuid.UUID,
    *,
    actor: Principal | None = None,
) -> None:
    """Revoke one of the app's tokens; revoking it twice is no error (and no second event)."""
    token = await session.get(ApiToken, token_id)
    # Another app's token answers like a missing one, so ids cannot be probed across tenants.
    if token is None or token.app_id != app_id:
        raise NotFound("There is no such token in this app.", code="token_not_found")
    if token.revoked_at is None:
        token.revoked_at = _now()
        await session.flush()
        await audit.record(
            session,
            AuditAction.TOKEN_REVOKED,
            actor=actor,
            app_id=app_id,
            target=token.id,
            details={"name": token.name, "prefix": token.prefix},
        )
