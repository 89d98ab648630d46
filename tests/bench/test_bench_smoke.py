"""The benchmark (``make bench``) run for real at 10,000 rows: every step works and every figure
is there. It wipes a database and a Redis db of its own: ``TEST_DATABASE_URL`` + ``_bench``, and
the Redis db just below the tests' own (say 15 → 14; ``BENCH_SMOKE_REDIS_URL`` to choose another),
so it never touches the suite's data. The large upload is shrunk to 4 MiB."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import pytest

from api.migrate import drop_database

ROOT = Path(__file__).resolve().parents[2]
ROWS = 10_000
TIMED = ("add", "modify", "validate_only", "invalid", "workbook")


def _bench_urls() -> tuple[str, str]:
    test_db = os.environ["TEST_DATABASE_URL"]  # tests/conftest.py sets both
    db = urlsplit(test_db)
    database_url = urlunsplit(db._replace(path=db.path + "_bench"))
    test_redis = urlsplit(os.environ["TEST_REDIS_URL"])
    if test_redis.scheme == "unix":  # the tests' own Redis: its db is in the query
        redis_db = (int(parse_qs(test_redis.query).get("db", ["0"])[0]) - 1) % 16
        default = urlunsplit(test_redis._replace(query=f"db={redis_db}"))
    else:
        redis_db = (int(test_redis.path.strip("/") or 0) - 1) % 16
        default = urlunsplit(test_redis._replace(path=f"/{redis_db}"))
    return database_url, os.environ.get("BENCH_SMOKE_REDIS_URL") or default


def _run_saying_what_it_waits_for(
    command: list[str], env: dict[str, str], timeout: float
) -> subprocess.CompletedProcess[str]:
    """Run the bench; every 30 s, say on the terminal (past pytest's capture) that it still
    runs and its last line, so that a slow machine is not mistaken for a hung one."""
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    lines: list[str] = []
    assert process.stderr is not None
    err_reader = threading.Thread(target=lambda: lines.extend(process.stderr or ()), daemon=True)
    err_reader.start()
    out: list[str] = []
    out_reader = threading.Thread(
        target=lambda: out.append((process.stdout or io.StringIO()).read())
    )
    out_reader.start()
    started = time.monotonic()
    while process.poll() is None:
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            waited = time.monotonic() - started
            if waited > timeout:
                process.kill()
                break
            last = lines[-1].strip() if lines else "(nothing yet)"
            print(
                f"\n[bench smoke] still running after {waited:.0f} s: {last}", file=sys.__stderr__
            )
    out_reader.join()
    err_reader.join(5)
    return subprocess.CompletedProcess(command, process.wait(), "".join(out), "".join(lines))


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    database_url, redis_url = _bench_urls()
    work = tmp_path_factory.mktemp("bench")
    env = dict(
        os.environ,
        ROWS=str(ROWS),
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        BENCH_UPLOAD_MIB="4",
        BENCH_DATA_DIR=str(work / "data"),
        BENCH_OUT_DIR=str(work / "out"),
    )
    done = _run_saying_what_it_waits_for([sys.executable, "-m", "bench"], env, timeout=280)
    asyncio.run(drop_database(database_url))
    assert done.returncode == 0, f"the bench failed:\n{done.stderr[-3000:]}"
    lines = done.stdout.strip().splitlines()
    return done.stdout, json.loads(lines[-1])


@pytest.mark.timeout(300)
def test_the_bench_runs_and_reports_every_figure(run: tuple[str, dict[str, Any]]) -> None:
    stdout, fig = run
    assert "| measure" in stdout
    assert fig["rows"] == ROWS
    assert fig["machine"]["cores"] >= 1
    assert fig["machine"]["postgresql"]
    # Each compared measure has its own baseline, run just before it.
    assert set(fig["baseline"]) == {"add_s", "modify_s", "validate_only_s", "invalid_s"}
    assert all(seconds > 0 for seconds in fig["baseline"].values())
    for name in ("add", "modify", "validate_only", "invalid"):
        assert fig[name]["baseline_s"] == fig["baseline"][f"{name}_s"], name
    for name in TIMED:
        timed = fig[name]
        assert timed["seconds"] > 0, name
        assert 0 < timed["upload_s"] < timed["seconds"], name
        assert timed["ratio"] > 0, name
        assert timed["worker_peak_mib"] > 0, name
        assert timed["api_peak_mib"] > 0, name
        assert timed["worker_cpu_s"] > 0, name
        phases = timed["phases_s"]
        assert set(phases) == {"upload", "queued", "validating", "applying"}, name
        assert sum(phases.values()) == pytest.approx(timed["seconds"], abs=0.05), name


@pytest.mark.timeout(300)
def test_every_import_ended_as_expected(run: tuple[str, dict[str, Any]]) -> None:
    _, fig = run
    assert fig["add"]["status"] == "completed"
    assert fig["add"]["result"]["created"] == ROWS
    assert fig["modify"]["result"]["updated"] == ROWS
    assert fig["validate_only"]["status"] == "completed"
    assert fig["invalid"]["status"] == "failed"
    assert fig["invalid"]["error_count"] == ROWS
    assert fig["invalid"]["kept_errors"] == 1000  # docs/format.md: the first 1,000 errors in full
    # The add's rows from an .xlsx, against the same rows as CSV just before.
    assert fig["workbook"]["status"] == "completed"
    assert fig["workbook"]["result"]["created"] == ROWS
    assert fig["workbook"]["ratio"] == pytest.approx(
        fig["workbook"]["seconds"] / fig["workbook"]["baseline_s"], abs=0.01
    )
    assert fig["workbook"]["csv_worker_peak_mib"] > 0
    assert fig["files"]["workbook_mib"] > 0


@pytest.mark.timeout(300)
def test_memory_progress_polls_and_workers_are_measured(
    run: tuple[str, dict[str, Any]],
) -> None:
    _, fig = run
    memory = fig["memory"]
    assert memory["small_rows"] == ROWS // 10
    assert memory["worker_peak_add_mib"] > 0
    assert memory["worker_peak_small_mib"] > 0
    assert memory["worker_peak_ratio"] > 0
    assert memory["api_peak_upload_mib"] >= memory["api_rss_before_upload_mib"] > 0
    assert fig["files"]["upload_mib"] > 3
    assert fig["progress"]["max_gap_s"] >= 0
    polls = fig["polls"]
    assert polls["pollers"] == 100
    assert polls["requests"] > 0
    assert polls["errors"] == 0
    assert 0 < polls["p50_ms"] <= polls["p99_ms"] <= polls["max_ms"]
    workers = fig["workers"]
    assert workers["rows"] == ROWS
    assert workers["two_workers_rows_per_s"] > 0
    assert workers["one_worker_rows_per_s"] > 0
    assert len(fig["targets"]) == fig["targets_total"] == 11
    assert all(isinstance(t["pass"], bool) for t in fig["targets"].values())
