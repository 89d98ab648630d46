"""An import's state as its event stream sends it, with the event id that orders it.

The id is ``attempt.status.rows.bytes``, the status as its place in the lifecycle's order. Every
transition makes it larger: each queueing (a retry, a corrected file) increments the attempt,
and within an attempt the status only moves forward and the progress only grows. So ids from
different API processes, or from before a restart, compare correctly, and ``Last-Event-ID``
tells exactly what the client has seen: nothing is stored per event.
"""

from __future__ import annotations

from dataclasses import replace

from fastapi.sse import format_sse_event

from api.events.publish import Beat
from api.imports.presenter import import_out
from api.imports.repository import ImportView
from api.imports.status import FINISHED, RUNNING, ImportStatus

Version = tuple[int, int, int, int]

_RANK = {status: rank for rank, status in enumerate(ImportStatus)}
# How long a browser waits before it reconnects a stream that broke (sent once per stream).
RETRY_MS = 2000
# A comment line alone, with no blank line after it: a blank line would end an (empty) event,
# which some client libraries (httpx-sse) hand on as one with no data.
KEEP_ALIVE = b": keep-alive\n"


def parse_event_id(text: str | None) -> Version | None:
    """The version a ``Last-Event-ID`` names; None when absent or not one of ours."""
    if not text:
        return None
    parts = text.split(".")
    if len(parts) != 4 or not all(part.isascii() and part.isdigit() for part in parts):
        return None
    attempt, rank, rows, bytes_ = (int(part) for part in parts)
    return attempt, rank, rows, bytes_


class Snapshot:
    """One state of an import, its JSON made once for every stream that sends it."""

    __slots__ = ("_frames", "data", "finished", "version", "view")

    def __init__(self, view: ImportView) -> None:
        row = view.row
        status = ImportStatus(row.status)
        self.view = view
        self.version: Version = (
            row.attempt,
            _RANK[status],
            row.rows_processed,
            row.bytes_processed,
        )
        self.finished = status in FINISHED
        self.data = import_out(view).model_dump_json()
        self._frames: dict[tuple[str, bool], bytes] = {}

    @property
    def event_id(self) -> str:
        return ".".join(map(str, self.version))

    def newer_than(self, seen: Version | None) -> bool:
        return seen is None or self.version > seen

    def frame(self, seen: Version | None) -> bytes:
        """The event for a client that last saw ``seen``: ``status`` when the status (or the
        attempt) differs from what it saw, else ``progress``; the first of a stream also says
        how soon to reconnect."""
        name = "status" if seen is None or seen[:2] != self.version[:2] else "progress"
        key = (name, seen is None)
        if key not in self._frames:
            self._frames[key] = format_sse_event(
                data_str=self.data,
                event=name,
                id=self.event_id,
                retry=RETRY_MS if seen is None else None,
            )
        return self._frames[key]

    def with_beat(self, beat: Beat) -> Snapshot | None:
        """This state moved on by a beat of the same attempt while it runs; None when the beat
        is not enough to tell the new state (the status changed in a way a beat cannot say)."""
        row = self.view.row
        if row.attempt != beat.attempt or ImportStatus(row.status) not in RUNNING:
            return None
        moved = replace(
            row, status=beat.status.value, rows_processed=beat.rows, bytes_processed=beat.bytes
        )
        return Snapshot(replace(self.view, row=moved))
