"""Signing secrets: made here, shown once, stored encrypted.

Signing needs the secret itself, so it cannot be stored as a hash like a token: it is
encrypted with Fernet (AES-128-CBC with HMAC-SHA256) under a key derived from
CASEIMPORT_SECRET_KEY by HKDF. Changing CASEIMPORT_SECRET_KEY makes the stored secrets
unreadable: each endpoint's secret must then be rotated.
"""

from __future__ import annotations

import base64
import secrets
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

PREFIX = "whsec_"
# Binds the derived key to this one use: the same setting may key other things later.
_INFO = b"caseimport webhook signing secrets v1"


class SecretUnreadable(Exception):
    """The stored secret does not decrypt under the current CASEIMPORT_SECRET_KEY."""


def new_secret() -> str:
    return PREFIX + secrets.token_urlsafe(32)


@lru_cache(maxsize=4)
def _fernet(secret_key: str) -> Fernet:
    # Imported when first needed: 6.7 MiB that an API process answering no webhook call
    # never pays (docs/performance.md).
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
        secret_key.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


def encrypt(secret: str, secret_key: str) -> str:
    return _fernet(secret_key).encrypt(secret.encode()).decode()


def decrypt(stored: str, secret_key: str) -> str:
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(secret_key).decrypt(stored.encode()).decode()
    except InvalidToken:
        raise SecretUnreadable(
            "the signing secret does not decrypt (was CASEIMPORT_SECRET_KEY changed?); "
            "rotate the endpoint's secret"
        ) from None
