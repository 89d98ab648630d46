"""A stored file as its readers take it: a fresh pass over its bytes for each call."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

Chunks = Callable[[], AsyncIterator[bytes]]
"""The stored file from its first byte, one chunk at a time (each call starts over)."""
