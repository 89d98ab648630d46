"""What the bench reads besides the clock: peak memory of a process, gaps in an import's
progress, and the latencies the pollers saw."""

from __future__ import annotations

import asyncio
import itertools
import json
import math
import mmap
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from api.imports.status import RUNNING, ImportStatus
from bench.client import Sample
from bench.config import PROJECT, BenchError, Config

KIB_PER_MIB = 1024


def _status_kib(pid: int, field: str) -> int:
    try:
        with Path(f"/proc/{pid}/status").open() as status:
            for line in status:
                if line.startswith(f"{field}:"):
                    return int(line.split()[1])
    except OSError as exc:
        raise BenchError(f"cannot read the memory of process {pid}: {exc}") from exc
    raise BenchError(f"/proc/{pid}/status has no {field}")


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set (VmHWM) since it started or since ``reset_peak``."""
    return _status_kib(pid, "VmHWM") / KIB_PER_MIB


def rss_mib(pid: int) -> float:
    return _status_kib(pid, "VmRSS") / KIB_PER_MIB


def reset_peak(pid: int) -> bool:
    """Reset VmHWM to the current RSS (Linux: ``5`` into clear_refs); False where refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time the process has used so far."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError as exc:
        raise BenchError(f"cannot read the CPU time of process {pid}: {exc}") from exc
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_reset_works() -> bool:
    """Whether this kernel resets a peak: tried on the bench's own process with 64 MiB."""
    pid, size = os.getpid(), 64 * 2**20
    block = bytearray(size)
    block[:: mmap.PAGESIZE] = b"\x01" * len(range(0, size, mmap.PAGESIZE))  # touch every page
    del block
    high = peak_rss_mib(pid)
    return reset_peak(pid) and peak_rss_mib(pid) < high - 32


@dataclass(frozen=True, slots=True)
class ProgressGaps:
    """How long ``rows_processed`` stood still while an import was validating or applying.

    ``max_gap`` counts every stretch of the running window, from the first sample that shows
    the import running to the first that shows it finished; ``max_gap_reading`` only those
    before the last change (the file being read); ``stall_after_last`` is the stretch from the
    last change to the end (checks and apply, when the count no longer moves).
    """

    max_gap: float
    max_gap_reading: float
    stall_after_last: float
    changes: int
    samples: int


def progress_gaps(samples: Sequence[Sample]) -> ProgressGaps:
    start = next((i for i, s in enumerate(samples) if s.status in RUNNING), None)
    if start is None:  # too quick to be seen running
        return ProgressGaps(0.0, 0.0, 0.0, 0, 0)
    end = next(
        (i for i in range(start, len(samples)) if samples[i].status not in RUNNING),
        len(samples) - 1,
    )
    window = samples[start : end + 1]
    changes = [
        b.at
        for a, b in itertools.pairwise(window)
        if b.rows_processed != a.rows_processed and b.status in RUNNING
    ]
    marks = [window[0].at, *changes]
    reading = max((b - a for a, b in itertools.pairwise(marks)), default=0.0)
    stall = window[-1].at - marks[-1]
    return ProgressGaps(max(reading, stall), reading, stall, len(changes), len(window))


PHASES = (ImportStatus.QUEUED, ImportStatus.VALIDATING, ImportStatus.APPLYING)


def phases(samples: Sequence[Sample], uploaded: float, finished: float) -> dict[str, float]:
    """Seconds spent in each status after the upload, from when each was first seen (so to
    within the ~100 ms between polls); a status never seen counts 0."""
    first: dict[str, float] = {}
    for sample in samples:
        first.setdefault(sample.status, sample.at)
    marks: list[tuple[float, str]] = [(uploaded, ImportStatus.QUEUED)]
    marks += [(first[p], p) for p in PHASES[1:] if p in first]
    marks.append((finished, "end"))
    spent = dict.fromkeys(PHASES, 0.0)
    for (at, status), (until, _) in itertools.pairwise(marks):
        spent[ImportStatus(status)] += max(0.0, until - at)
    return {"upload": uploaded, **{str(status): seconds for status, seconds in spent.items()}}


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` in 0..1); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class PollStats:
    pollers: int
    requests: int
    errors: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    cpu_seconds: float  # the pollers' own CPU time: what they took from the service's cores


async def start_pollers(
    config: Config, base_url: str, app: str, import_id: str, token: str
) -> asyncio.subprocess.Process:
    """The pollers in a process of their own (``python -m bench.pollers``), so that their work
    and the bench's own timing loop do not share one event loop."""
    proc = await asyncio.create_subprocess_exec(
        str(config.python),
        "-m",
        "bench.pollers",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=PROJECT,
    )
    assert proc.stdin is not None
    order = {
        "base_url": base_url,
        "path": f"/api/apps/{app}/imports/{import_id}",
        "token": token,
        "pollers": config.pollers,
        "interval": config.poll_interval,
        "seed": config.seed,
    }
    proc.stdin.write(json.dumps(order).encode() + b"\n")
    await proc.stdin.drain()
    proc.stdin.close()
    return proc


async def finish_pollers(proc: asyncio.subprocess.Process, grace: float) -> PollStats:
    """The pollers stop by themselves once one of them sees the import finished."""
    try:
        out, err = await asyncio.wait_for(proc.communicate(), grace)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise BenchError("the pollers did not stop after the import finished") from None
    if proc.returncode != 0:
        raise BenchError(f"the pollers failed ({proc.returncode}): {err.decode().strip()[-800:]}")
    if err.strip():
        print(f"bench: pollers: {err.decode().strip()[-800:]}", file=sys.stderr)
    data = json.loads(out.decode().strip().splitlines()[-1])
    return PollStats(**data)
