"""The exit codes of the client commands (``push``, ``imports``): what a CI script tests."""

from __future__ import annotations

from enum import IntEnum

# The enum alone (the standard library only): importing it costs the client nothing.
from api.imports.status import ImportStatus


class Exit(IntEnum):
    COMPLETED = 0  # completed, no row failed
    FAILED = 1  # the import failed: nothing was applied
    USAGE = 2  # the command line is wrong
    SOME_ROWS_FAILED = 3  # completed, but rows failed and were skipped (on_error=skip)
    CANCELLED = 4
    UNREACHABLE = 5  # the server could not be reached, or refused the request
    TIMED_OUT = 6  # still running when --timeout ran out


def of_import(item: dict[str, object]) -> Exit | None:
    """How a finished import ends the command; None while it runs (or is a draft)."""
    status = item.get("status")
    if status == ImportStatus.COMPLETED:
        result = item.get("result")
        failed = result.get("failed", 0) if isinstance(result, dict) else 0
        return Exit.SOME_ROWS_FAILED if failed else Exit.COMPLETED
    if status == ImportStatus.FAILED:
        return Exit.FAILED
    if status == ImportStatus.CANCELLED:
        return Exit.CANCELLED
    return None


HELP = """exit codes:
  0  completed, no row failed          1  failed: nothing was applied
  2  usage error                       3  completed, but some rows failed (on_error=skip)
  4  cancelled                         5  server unreachable, or it refused the request
  6  still running when --timeout ran out (the import's id is printed)"""
