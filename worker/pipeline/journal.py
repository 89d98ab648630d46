"""An attempt's first and last lines in the worker's log: what it runs, and how it ended, with
the import's counts and how long it took. Both carry the ids bound for the attempt (``import_id``,
``attempt``, ``app_id``: ``worker/jobs.py``, ``worker/pipeline/runner.py``).

How an attempt ends (``status``): ``completed`` and ``failed`` as the import's own status;
``requeued`` when it broke off and another attempt will run; ``handed_back`` when the worker was
asked to stop; ``lost`` when the import was cancelled or a newer attempt took it over, so
nothing of this one was kept.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Literal

import structlog

from api.imports.lifecycle import Claim, Counts
from worker.pipeline.outcome import Completed, Outcome

log = structlog.stdlib.get_logger("worker.imports")

Ending = Literal["completed", "failed", "requeued", "handed_back", "lost"]


class Journal:
    def __init__(self, claim: Claim) -> None:
        self._started = time.monotonic()
        log.info(
            "import started",
            type=claim.type_key,
            validate_only=claim.validate_only,
            on_error="skip" if claim.skip_bad_rows else "fail",
            **_derived_from(claim),
        )

    def finished(self, outcome: Outcome | None, counts: Counts | None) -> None:
        """The import completed or failed with this outcome (None: given up, unreadable)."""
        status: Ending = "completed" if isinstance(outcome, Completed) else "failed"
        self.ended(
            status,
            counts=_counts(counts),
            error_rows=outcome.error_rows if outcome else None,
            error_count=outcome.error_count if outcome else None,
        )

    def ended(self, status: Ending, **facts: object) -> None:
        log.info(
            "import finished",
            status=status,
            duration_ms=round((time.monotonic() - self._started) * 1000, 1),
            **facts,
        )


def _derived_from(claim: Claim) -> dict[str, str]:
    """The import whose checked plan this one applies, or which it reverts."""
    if claim.plan_id is not None:
        return {"plan_id": str(claim.plan_id)}
    if claim.revert_of is not None:
        return {"revert_of": str(claim.revert_of)}
    return {}


def _counts(counts: Counts | None) -> dict[str, int] | None:
    """The rows and what became of them (the file's hash left out: it is in the import)."""
    if counts is None:
        return None
    return {key: value for key, value in asdict(counts).items() if isinstance(value, int)}
