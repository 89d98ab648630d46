"""The optional bearer token in front of /metrics, the API's and the worker's alike.

No web framework here: the worker's metrics server checks the same way.
"""

from __future__ import annotations

import hmac

from pydantic import SecretStr

DETAIL = "The metrics need the bearer token of CASEIMPORT_METRICS_TOKEN."
CHALLENGE = 'Bearer realm="metrics"'


def authorized(authorization: str | None, token: SecretStr | None) -> bool:
    """Whether an ``Authorization`` header carries the token; always, when none is set."""
    if token is None:
        return True
    scheme, _, given = (authorization or "").partition(" ")
    expected = token.get_secret_value().encode()
    # Compared in constant time: the time taken says nothing of how much of a guess was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), expected)
