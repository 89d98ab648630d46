"""The uploads this API process is receiving: capped per app and per token, and their
Idempotency-Keys, so that a repeat arriving mid-transfer is told to wait.

Counted in memory, so per API process: with N replicas an app may have N times the cap in
flight. Receiving holds no database connection, so the caps bound disk, memory and one
tenant's share of a process, not the pool.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from api.auth.principal import AppAccess
from api.errors import Conflict, TooManyRequests

# Uploads last seconds to minutes; sooner than this a retry would mostly be refused again.
RETRY_AFTER_SECONDS = 10

Caller = tuple[str, uuid.UUID]
KeyOf = tuple[uuid.UUID, uuid.UUID, str]


def _caller(access: AppAccess) -> Caller:
    principal = access.principal
    if principal.token_id is not None:
        return ("token", principal.token_id)
    return ("user", principal.user_id)


class UploadsInFlight:
    def __init__(self, *, per_app: int, per_token: int) -> None:
        self.per_app = per_app
        self.per_token = per_token
        self._apps: Counter[uuid.UUID] = Counter()
        self._callers: Counter[Caller] = Counter()
        self._keys: set[KeyOf] = set()

    def count(self, app_id: uuid.UUID) -> int:
        return self._apps[app_id]

    def total(self) -> int:
        return sum(self._apps.values())

    @contextmanager
    def hold(self, access: AppAccess, idempotency_key: str | None = None) -> Iterator[None]:
        """A slot for one upload of the caller's, or 409 (its key in flight) or 429 (a cap)."""
        caller = _caller(access)
        key = (
            (access.app_id, access.principal.user_id, idempotency_key)
            if idempotency_key is not None
            else None
        )
        if key is not None and key in self._keys:
            raise Conflict(
                "A request with this Idempotency-Key is still being stored; retry in a moment.",
                code="idempotency_in_progress",
            )
        if self._apps[access.app_id] >= self.per_app:
            raise self._busy(f"This app already has {self.per_app} uploads in progress")
        if self._callers[caller] >= self.per_token:
            who = "This token already has" if caller[0] == "token" else "You already have"
            raise self._busy(f"{who} {self.per_token} uploads in progress")
        self._apps[access.app_id] += 1
        self._callers[caller] += 1
        if key is not None:
            self._keys.add(key)
        try:
            yield
        finally:
            self._apps[access.app_id] -= 1
            if not self._apps[access.app_id]:
                del self._apps[access.app_id]
            self._callers[caller] -= 1
            if not self._callers[caller]:
                del self._callers[caller]
            if key is not None:
                self._keys.discard(key)

    @staticmethod
    def _busy(reason: str) -> TooManyRequests:
        return TooManyRequests(
            f"{reason}; wait for one to finish, then retry.",
            code="too_many_uploads",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
