"""The figures of a run: one dict (printed as the final JSON line) and a Markdown table read
from it, so the two always agree. The targets are those of docs/performance.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bench.baseline import Baselines
from bench.measure import PHASES, PollStats
from bench.scenarios import Files, Invalid, Timed, UploadMemory, Workbook, Workers

TARGET_ROWS = 1_000_000


@dataclass(frozen=True, slots=True)
class Results:
    rows: int
    date: str
    machine: dict[str, Any]
    files: Files
    baselines: Baselines
    small: Timed
    add: Timed
    modify: Timed
    validate_only: Timed
    invalid: Invalid
    workbook: Workbook
    polled: Timed
    polls: PollStats
    upload: UploadMemory
    two_workers: Workers
    one_worker: Workers


def _r(value: float, digits: int = 3) -> float:
    return round(value, digits)


def _timed(timed: Timed, baseline: float) -> dict[str, Any]:
    return {
        "status": timed.body["status"],
        "result": timed.body["result"],
        "seconds": _r(timed.seconds),
        "upload_s": _r(timed.upload_seconds),
        "rows_per_s": round(timed.rows_per_second),
        "baseline_s": _r(baseline),
        "ratio": _r(timed.seconds / baseline),
        "worker_peak_mib": _r(timed.worker_peak_mib, 1),
        "api_peak_mib": _r(timed.api_peak_mib, 1),
        "progress_max_gap_s": _r(timed.progress.max_gap),
        # Approximate (the bench polls every ~100 ms); upload + phases = seconds.
        "phases_s": {name: _r(value, 2) for name, value in timed.phases.items()},
        # CPU the two processes used during the import: near ``seconds`` means CPU-bound.
        "worker_cpu_s": _r(timed.worker_cpu_seconds, 2),
        "api_cpu_s": _r(timed.api_cpu_seconds, 2),
    }


def _target(value: float, limit: float, unit: str) -> dict[str, Any]:
    return {"value": value, "limit": limit, "unit": unit, "pass": value <= limit}


def figures(r: Results) -> dict[str, Any]:
    base = r.baselines
    add_s, modify_s = base.add_seconds, base.modify_seconds
    gaps = r.add.progress
    worker_ratio = r.add.worker_peak_mib / r.small.worker_peak_mib
    fig: dict[str, Any] = {
        "rows": r.rows,
        "date": r.date,
        "machine": r.machine,
        "files": {
            "add_mib": _r(r.files.add.mib, 1),
            "bytes_per_row": _r(r.files.add.size_bytes / r.files.add.rows, 1),
            "upload_mib": _r(r.upload.mib, 1),
            "upload_rows": r.files.upload.rows,
            "workbook_mib": _r(r.files.workbook.mib, 1),
        },
        # Each measure's own baseline, run just before it (see baseline.Baselines).
        "baseline": {
            "add_s": _r(add_s),
            "modify_s": _r(modify_s),
            "validate_only_s": _r(base.validate_only_seconds),
            "invalid_s": _r(base.invalid_seconds),
        },
        "add": _timed(r.add, add_s),
        "modify": _timed(r.modify, modify_s),
        "validate_only": _timed(r.validate_only, base.validate_only_seconds),
        "invalid": {
            **_timed(r.invalid.timed, base.invalid_seconds),
            "error_count": r.invalid.error_count,
            "kept_errors": r.invalid.kept_errors,
        },
        # The add's rows from an .xlsx; its baseline is the same rows as CSV, just before it.
        "workbook": {
            **_timed(r.workbook.xlsx, r.workbook.csv.seconds),
            "csv_worker_peak_mib": _r(r.workbook.csv.worker_peak_mib, 1),
        },
        "memory": {
            "worker_peak_add_mib": _r(r.add.worker_peak_mib, 1),
            "worker_peak_small_mib": _r(r.small.worker_peak_mib, 1),
            "small_rows": r.small.rows,
            "worker_peak_ratio": _r(worker_ratio),
            "api_peak_upload_mib": _r(r.upload.api_peak_mib, 1),
            "api_rss_before_upload_mib": _r(r.upload.api_rss_before_mib, 1),
            "upload_s": _r(r.upload.seconds),
        },
        "progress": {
            "max_gap_s": _r(gaps.max_gap),
            "max_gap_reading_s": _r(gaps.max_gap_reading),
            "stall_after_last_change_s": _r(gaps.stall_after_last),
            "changes": gaps.changes,
            "samples": gaps.samples,
        },
        "polls": {
            "pollers": r.polls.pollers,
            "requests": r.polls.requests,
            "errors": r.polls.errors,
            "p50_ms": _r(r.polls.p50_ms, 1),
            "p99_ms": _r(r.polls.p99_ms, 1),
            "max_ms": _r(r.polls.max_ms, 1),
            "mean_ms": _r(r.polls.mean_ms, 1),
            "pollers_cpu_s": _r(r.polls.cpu_seconds, 2),
            "api_cpu_s": _r(r.polled.api_cpu_seconds, 2),
            "api_cpu_ms_per_poll": _r(
                1000
                * (r.polled.api_cpu_seconds - r.add.api_cpu_seconds)
                / max(1, r.polls.requests),
                2,
            ),
            "add_seconds": _r(r.polled.seconds),
            "add_ratio": _r(r.polled.seconds / add_s),
        },
        "workers": {
            "rows": r.two_workers.rows,
            "two_workers_s": _r(r.two_workers.seconds),
            "two_workers_rows_per_s": round(r.two_workers.rows_per_second),
            "one_worker_s": _r(r.one_worker.seconds),
            "one_worker_rows_per_s": round(r.one_worker.rows_per_second),
            "ratio": _r(r.two_workers.rows_per_second / r.one_worker.rows_per_second),
        },
    }
    targets = {
        "add": _target(fig["add"]["ratio"], 1.5, "x baseline add"),
        "modify": _target(fig["modify"]["ratio"], 1.5, "x baseline modify"),
        "validate_only": _target(fig["validate_only"]["ratio"], 1.0, "x baseline add"),
        "invalid": _target(fig["invalid"]["ratio"], 1.5, "x baseline add"),
        "worker_peak": _target(fig["memory"]["worker_peak_add_mib"], 150.0, "MiB"),
        "worker_peak_ratio": _target(fig["memory"]["worker_peak_ratio"], 1.2, "x"),
        "api_peak_upload": _target(fig["memory"]["api_peak_upload_mib"], 140.0, "MiB"),
        "progress_gap": _target(fig["progress"]["max_gap_s"], 1.0, "s"),
        "poll_p99": _target(fig["polls"]["p99_ms"], 50.0, "ms"),
        "workbook": _target(fig["workbook"]["ratio"], 3.0, "x the same rows as CSV"),
        "workbook_peak": _target(fig["workbook"]["worker_peak_mib"], 200.0, "MiB"),
    }
    fig["targets"] = targets
    fig["targets_met"] = sum(t["pass"] for t in targets.values())
    fig["targets_total"] = len(targets)
    return fig


def _s(value: float) -> str:
    return f"{value:.2f} s"


def _limit(target: dict[str, Any], unit: str) -> str:
    return f"≤ {target['limit']:g}{unit}"


def _verdict(target: dict[str, Any]) -> str:
    return "pass" if target["pass"] else "**FAIL**"


def markdown(lines: list[tuple[str, ...]], right: set[int]) -> list[str]:
    """A Markdown table, its columns padded to line up in a terminal too."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]

    def render(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|".join(
        "-" * (w + 1) + ":" if i in right else "-" * (w + 2) for i, w in enumerate(widths)
    )
    return [render(lines[0]), f"|{rule}|", *(render(line) for line in lines[1:])]


PHASE_ROWS = (
    ("add", "add"),
    ("modify", "modify"),
    ("validate_only", "`validate_only`"),
    ("invalid", "every row invalid"),
    ("workbook", "add from an .xlsx"),
)


def _phase_lines(fig: dict[str, Any]) -> list[tuple[str, ...]]:
    """Where each import's time went, from the statuses the bench saw (to ~0.1 s)."""
    phase_names = ("upload", *PHASES)
    lines: list[tuple[str, ...]] = [
        ("where the time went (s)", *phase_names, "total", "worker CPU", "API CPU"),
    ]
    for key, label in PHASE_ROWS:
        timed, phases = fig[key], fig[key]["phases_s"]
        lines.append(
            (
                label,
                *(f"{phases[p]:.2f}" for p in phase_names),
                f"{timed['seconds']:.2f}",
                f"{timed['worker_cpu_s']:.2f}",
                f"{timed['api_cpu_s']:.2f}",
            )
        )
    return lines


def table(fig: dict[str, Any]) -> str:
    rows, t = fig["rows"], fig["targets"]
    small, machine = fig["memory"]["small_rows"], fig["machine"]
    base_add, base_mod = _s(fig["baseline"]["add_s"]), _s(fig["baseline"]["modify_s"])
    mem, prog, polls, workers = fig["memory"], fig["progress"], fig["polls"], fig["workers"]
    book = fig["workbook"]
    lines: list[tuple[str, ...]] = [
        ("measure", "value", "baseline", "ratio", "target", "result"),
        (
            f"add, {rows:,} valid rows: upload → `completed`",
            _s(fig["add"]["seconds"]),
            base_add,
            f"{fig['add']['ratio']:.2f}×",
            _limit(t["add"], "×"),
            _verdict(t["add"]),
        ),
        (
            f"modify, {rows:,} cases: status and about",
            _s(fig["modify"]["seconds"]),
            base_mod,
            f"{fig['modify']['ratio']:.2f}×",
            _limit(t["modify"], "×"),
            _verdict(t["modify"]),
        ),
        (
            "`validate_only` of the add file",
            _s(fig["validate_only"]["seconds"]),
            _s(fig["baseline"]["validate_only_s"]),
            f"{fig['validate_only']['ratio']:.2f}×",
            _limit(t["validate_only"], "×"),
            _verdict(t["validate_only"]),
        ),
        (
            f"every row invalid → `failed` ({fig['invalid']['error_count']:,} rows, "
            f"{fig['invalid']['kept_errors']:,} errors kept)",
            _s(fig["invalid"]["seconds"]),
            _s(fig["baseline"]["invalid_s"]),
            f"{fig['invalid']['ratio']:.2f}×",
            _limit(t["invalid"], "×"),
            _verdict(t["invalid"]),
        ),
        (
            "worker peak RSS during the add",
            f"{mem['worker_peak_add_mib']:.1f} MiB",
            "",
            "",
            _limit(t["worker_peak"], " MiB"),
            _verdict(t["worker_peak"]),
        ),
        (
            f"worker peak, {rows:,} vs {small:,} rows",
            f"{mem['worker_peak_add_mib']:.1f} / {mem['worker_peak_small_mib']:.1f} MiB",
            "",
            f"{mem['worker_peak_ratio']:.2f}×",
            _limit(t["worker_peak_ratio"], "×"),
            _verdict(t["worker_peak_ratio"]),
        ),
        (
            f"API peak RSS receiving a {fig['files']['upload_mib']:.0f} MiB upload",
            f"{mem['api_peak_upload_mib']:.1f} MiB",
            f"{mem['api_rss_before_upload_mib']:.1f} MiB before",
            "",
            _limit(t["api_peak_upload"], " MiB"),
            _verdict(t["api_peak_upload"]),
        ),
        (
            f"add from an .xlsx, {rows:,} rows ({fig['files']['workbook_mib']:.1f} MiB)",
            _s(book["seconds"]),
            f"{_s(book['baseline_s'])} as CSV",
            f"{book['ratio']:.2f}×",
            _limit(t["workbook"], "×"),
            _verdict(t["workbook"]),
        ),
        (
            "worker peak RSS during the .xlsx add",
            f"{book['worker_peak_mib']:.1f} MiB",
            f"{book['csv_worker_peak_mib']:.1f} MiB as CSV",
            "",
            _limit(t["workbook_peak"], " MiB"),
            _verdict(t["workbook_peak"]),
        ),
        (
            "longest time `rows_processed` stood still (validating/applying)",
            _s(prog["max_gap_s"]),
            f"reading {prog['max_gap_reading_s']:.2f} s, "
            f"after {prog['stall_after_last_change_s']:.2f} s",
            "",
            _limit(t["progress_gap"], " s"),
            _verdict(t["progress_gap"]),
        ),
        (
            f"status poll p99, {polls['pollers']} pollers during an add",
            f"{polls['p99_ms']:.1f} ms",
            f"p50 {polls['p50_ms']:.1f}, max {polls['max_ms']:.1f} ms; {polls['requests']:,} "
            f"polls, {polls['pollers_cpu_s']:.1f} s client CPU",
            "",
            _limit(t["poll_p99"], " ms"),
            _verdict(t["poll_p99"]),
        ),
        (
            "the add under those polls",
            _s(polls["add_seconds"]),
            base_add,
            f"{polls['add_ratio']:.2f}×",
            "",
            "",
        ),
        (
            f"two workers, two apps' files at once ({workers['rows']:,} rows)",
            f"{workers['two_workers_rows_per_s']:,} rows/s",
            f"{workers['one_worker_rows_per_s']:,} rows/s, one worker in turn",
            f"{workers['ratio']:.2f}×",
            "",
            "",
        ),
    ]
    out = [
        *markdown(lines, right={1, 2, 3}),
        "",
        *markdown(_phase_lines(fig), right=set(range(1, 8))),
    ]
    out.append("")
    out.append(
        f"{fig['targets_met']} of {fig['targets_total']} targets met. "
        f"{rows:,} rows ({fig['files']['add_mib']:.1f} MiB, {fig['files']['bytes_per_row']:.1f} "
        f"bytes a row), {fig['date']}, {machine['cores']} cores, {machine['ram_gib']:.1f} GiB "
        f"RAM, {machine['cpu']}, PostgreSQL {machine['postgresql']}, Python "
        f"{machine['python']}, commit {machine['commit']}."
    )
    if rows != TARGET_ROWS:
        out.append(f"(The targets are set for {TARGET_ROWS:,} rows; this run had {rows:,}.)")
    return "\n".join(out)
