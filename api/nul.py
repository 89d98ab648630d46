"""NUL, the one character PostgreSQL cannot store in text, and the error that names where."""

from __future__ import annotations

NUL = "\x00"
# How a NUL is shown back to a person (error values, field names).
SHOWN = "␀"


def nul_error(where: list[str], message: str) -> dict[str, object]:
    """A field error (the ``errors`` of a problem document) for a NUL at ``where``."""
    return {
        "loc": [part.replace(NUL, SHOWN) for part in where],
        "message": message,
        "type": "invalid_character",
    }
