"""Secrets handed to clients: session cookie values and API tokens.

Only the SHA-256 of a secret is stored, so a copy of the database signs nobody in. A plain fast
hash is enough here (unlike passwords): the secrets are 256 random bits, not guessable words.
"""

from __future__ import annotations

import hashlib
import secrets
import string
from dataclasses import dataclass

TOKEN_PREFIX = "cit_"  # noqa: S105 - a marker, not a secret
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
_PREFIX_LENGTH = 8


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def hash_secret(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewApiToken:
    token: str  # shown to its owner once, never stored
    prefix: str  # stored and listed, so people can tell their tokens apart
    token_hash: str


def new_api_token() -> NewApiToken:
    """``cit_<8 chars>_<secret>``: recognisable in logs and by secret scanners."""
    short = "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(_PREFIX_LENGTH))
    prefix = f"{TOKEN_PREFIX}{short}"
    token = f"{prefix}_{new_secret()}"
    return NewApiToken(token=token, prefix=prefix, token_hash=hash_secret(token))


def looks_like_api_token(value: str) -> bool:
    # Saves a database round trip for values that cannot be tokens; the hash lookup decides.
    return value.startswith(TOKEN_PREFIX) and len(value) <= 200
