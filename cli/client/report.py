"""What the client shows a person while it works and when it is done.

On a terminal: live bars (the upload's bytes, then the import's progress with a time left). In
a CI log, which is no terminal: a plain line when something changes, and at most one every
``PLAIN_EVERY_SECONDS`` while it runs, so a long import does not flood the log.
"""

from __future__ import annotations

import sys
import time
from typing import Any, Protocol, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

PLAIN_EVERY_SECONDS = 5.0
ERRORS_SHOWN = 20


class Reporter(Protocol):
    def uploading(self, sent: int, total: int) -> None: ...
    def following(self, item: dict[str, Any]) -> None: ...
    def note(self, line: str) -> None: ...
    def close(self) -> None: ...


def _progress_words(item: dict[str, Any]) -> str:
    progress = item.get("progress") or {}
    rows = progress.get("rows_processed") or 0
    total = progress.get("rows_total")
    counted = f"{rows:,} of {total:,} rows" if total else f"{rows:,} rows"
    return f"{item.get('status')}: {counted} ({progress.get('percent', 0):.0f}%)"


class LiveReporter:
    def __init__(self, stream: TextIO) -> None:

        self.console = Console(file=stream)
        self._bars = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>5.1f}%"),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._upload: TaskID | None = None
        self._import: TaskID | None = None
        self._bars.start()

    def uploading(self, sent: int, total: int) -> None:
        if self._upload is None:
            self._upload = self._bars.add_task("uploading", total=total or None)
        self._bars.update(self._upload, completed=sent, description=f"uploading {sent:,} B")

    def following(self, item: dict[str, Any]) -> None:
        if self._import is None:
            self._import = self._bars.add_task("queued", total=100)
        percent = (item.get("progress") or {}).get("percent", 0)
        self._bars.update(self._import, completed=percent, description=_progress_words(item))

    def note(self, line: str) -> None:
        self._bars.console.print(line, markup=False, highlight=False)

    def close(self) -> None:
        self._bars.stop()


class PlainReporter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self._last_line = ""
        self._last_at = 0.0

    def _line(self, line: str, *, changed: bool) -> None:
        now = time.monotonic()
        if line != self._last_line and (changed or now - self._last_at >= PLAIN_EVERY_SECONDS):
            print(line, file=self.stream, flush=True)
            self._last_line, self._last_at = line, now

    def uploading(self, sent: int, total: int) -> None:
        done = sent >= total > 0
        self._line(f"uploading: {sent:,} of {total:,} bytes", changed=done or sent == 0)

    def following(self, item: dict[str, Any]) -> None:
        changed = not self._last_line.startswith(f"{item.get('status')}:")
        self._line(_progress_words(item), changed=changed)

    def note(self, line: str) -> None:
        print(line, file=self.stream, flush=True)

    def close(self) -> None:
        return None


def reporter_for(stream: TextIO = sys.stderr) -> Reporter:
    return LiveReporter(stream) if stream.isatty() else PlainReporter(stream)


def _counted(n: int | None, noun: str) -> str:
    n = n or 0
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def reconciliation(result: dict[str, Any]) -> str:
    """Rows read = created + updated + unchanged + failed (+ rows not applied when a failed row
    stopped the import), the blank rows skipped, and the file counted."""
    counts = {key: int(result.get(key) or 0) for key in ("created", "updated", "unchanged")}
    if result.get("deleted"):  # a revert
        counts["deleted"] = int(result["deleted"])
    counts["failed"] = int(result.get("failed") or 0)
    rows = int(result.get("rows") or 0)
    parts = [f"{count:,} {key}" for key, count in counts.items()]
    rest = rows - sum(counts.values())
    if rest:
        parts.append(f"{rest:,} not applied")
    text = f"Rows read: {rows:,} = " + " + ".join(parts)
    blank = int(result.get("blank_rows") or 0)
    text += f"; {blank:,} blank {'row' if blank == 1 else 'rows'} skipped"
    if result.get("sha256"):
        text += f"; file sha256 {result['sha256']}"
    return text + "."


def summary(
    item: dict[str, Any],
    errors: list[dict[str, Any]],
    link: str,
    stream: TextIO,
) -> None:
    """The result, the warnings, the first errors as a table, and where to see it all."""

    console = Console(file=stream, highlight=False, width=None if stream.isatty() else 120)
    status = item.get("status")
    line = f'Import "{item.get("name")}" ({item.get("type")}) {status}'
    result = item.get("result")
    if isinstance(result, dict):
        rows = result.get("rows", 0)
        counts = f"{rows:,} {'row' if rows == 1 else 'rows'}, " + ", ".join(
            f"{result.get(key, 0):,} {key}" for key in ("created", "updated", "unchanged", "failed")
        )
        line += f": {counts}"
    if item.get("validate_only"):
        line += " (validate only: nothing was changed)"
    console.print(line + ".", markup=False)
    if isinstance(result, dict):
        console.print(reconciliation(result), markup=False)
    for warning in item.get("warnings") or []:
        console.print(f"Warning ({warning.get('code')}): {warning.get('message')}", markup=False)
    error = item.get("error")
    if isinstance(error, dict):
        console.print(str(error.get("summary")), markup=False)
    if errors:
        tally: dict[str, Any] = error if isinstance(error, dict) else {}
        total, bad_rows = tally.get("error_count"), tally.get("error_rows")
        shown = "The error" if len(errors) == 1 else f"The first {len(errors)} errors"
        title = shown
        if total:
            title += f" ({_counted(total, 'error')} on {_counted(bad_rows, 'row')} in all)"
        table = Table(title=title, title_justify="left")
        for name in ("line", "column", "value", "message"):
            table.add_column(name, overflow="fold")
        for e in errors[:ERRORS_SHOWN]:
            table.add_row(
                *(
                    "" if e.get(k) is None else str(e[k])
                    for k in ("line", "column", "value", "message")
                )
            )
        console.print(table)
    console.print(f"See it in the browser: {link}", markup=False)
