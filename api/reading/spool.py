"""A stored upload copied to a temporary file on local disk, for readers that need to seek."""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from api.reading.chunks import Chunks


@contextlib.asynccontextmanager
async def spooled(chunks: Chunks) -> AsyncIterator[Path]:
    """The whole file at a path in a folder of its own; the folder and whatever is in it (the
    file may be renamed there) are deleted afterwards, whatever happens."""
    with tempfile.TemporaryDirectory(prefix="caseimport-") as folder:
        path = Path(folder) / "upload"
        with path.open("wb") as out:
            async for chunk in chunks():
                # Off the event loop: the heartbeat keeps beating while the disk is slow.
                await asyncio.to_thread(out.write, chunk)
        yield path
