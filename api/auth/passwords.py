"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory defaults).

Hashing and verifying are deliberately slow (a few hundred milliseconds of CPU), so async callers
run them in a thread (``asyncio.to_thread``) rather than on the event loop.
"""

from __future__ import annotations

from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        # A mismatch, or a stored hash we cannot read: either way, not this password.
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's hasher uses."""
    return _hasher.check_needs_rehash(password_hash)


@cache
def _dummy_hash() -> str:
    # Made once per process with the hasher's own parameters, so verifying against it costs what
    # verifying a real user's hash costs.
    return _hasher.hash("not a password anybody has")


def verify_dummy(password: str) -> None:
    """Spend the time a real verification takes, for an email that has no account.

    Without it an unknown email is refused noticeably faster than a wrong password, and the
    difference tells an attacker which emails have accounts.
    """
    verify_password(_dummy_hash(), password)
