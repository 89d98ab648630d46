"""What one benchmark run is told by its environment, checked once at start."""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

PROJECT = Path(__file__).resolve().parent.parent
DEFAULT_ROWS = 1_000_000
DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/caseimport_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/12"
MIN_ROWS = 1_000


class BenchError(Exception):
    """Something broke (a setup step, a process, an import that ended wrong): no figures."""


@dataclass(frozen=True, slots=True)
class Config:
    rows: int
    database_url: str
    redis_url: str
    data_dir: Path
    out_dir: Path
    upload_mib: float
    seed: int
    pollers: int
    poll_interval: float
    max_kept_errors: int
    max_upload_bytes: int
    caseimport: Path
    python: Path

    @property
    def database_name(self) -> str:
        return urlsplit(self.database_url).path.lstrip("/")

    @property
    def redis_db(self) -> int:
        return redis_db(self.redis_url)

    def child_env(self, **extra: str) -> dict[str, str]:
        """The environment of the service's processes: the bench database and Redis."""
        env = dict(os.environ)
        env.update(DATABASE_URL=self.database_url, REDIS_URL=self.redis_url, **extra)
        return env


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip().replace("_", "")
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise BenchError(f"{name} must be a whole number, not {raw!r}") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return float(raw)
    except ValueError:
        raise BenchError(f"{name} must be a number, not {raw!r}") from None


def redis_db(url: str) -> int:
    """The db a Redis URL names: its path for redis://, its ``db`` query for unix://."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return int(parse_qs(parts.query).get("db", ["0"])[0])
    path = parts.path.strip("/")
    return int(path) if path else 0


def _check_disposable(database_url: str, redis_url: str) -> None:
    """The bench drops its database and flushes its Redis db: refuse ones that look shared."""
    if os.environ.get("BENCH_ALLOW_DESTROY") == "1":
        return
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgresql", "postgres"):
        raise BenchError(f"DATABASE_URL must be a postgresql:// URL, not {database_url!r}")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or "bench" not in name:
        raise BenchError(
            f"the bench drops and recreates its database, and {name!r} does not look like a "
            "bench database (its name must contain 'bench'); set DATABASE_URL to one, or "
            "BENCH_ALLOW_DESTROY=1 to use this one anyway"
        )
    if urlsplit(redis_url).scheme not in ("redis", "unix"):
        raise BenchError(f"REDIS_URL must be a redis:// or unix:// URL, not {redis_url!r}")
    if redis_db(redis_url) == 0:
        raise BenchError(
            "the bench flushes its Redis database, and db 0 is the service's default; set "
            "REDIS_URL to another db (e.g. redis://127.0.0.1:6379/12), or BENCH_ALLOW_DESTROY=1"
        )


def load() -> Config:
    rows = _int("ROWS", DEFAULT_ROWS)
    if rows < MIN_ROWS:
        raise BenchError(f"ROWS must be at least {MIN_ROWS:,}")
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    _check_disposable(database_url, redis_url)
    bin_dir = Path(sys.executable).parent  # .venv/bin: not resolved, a venv's python is a link
    caseimport = bin_dir / "caseimport"
    if not caseimport.exists():
        raise BenchError(f"{caseimport} is missing: run the bench with the project's .venv")
    pollers = _int("BENCH_POLLERS", 100)
    if pollers < 1:
        raise BenchError("BENCH_POLLERS must be at least 1")
    return Config(
        rows=rows,
        database_url=database_url,
        redis_url=redis_url,
        data_dir=Path(os.environ.get("BENCH_DATA_DIR") or PROJECT / "bench" / ".data"),
        out_dir=Path(os.environ.get("BENCH_OUT_DIR") or PROJECT / "bench" / "out"),
        upload_mib=_float("BENCH_UPLOAD_MIB", 200.0),
        seed=_int("BENCH_SEED", 4),
        pollers=pollers,
        poll_interval=_float("BENCH_POLL_INTERVAL", 1.0),
        # The service's own settings, read from the same variables it reads.
        max_kept_errors=_int("CASEIMPORT_MAX_KEPT_ERRORS", 1000),
        max_upload_bytes=_int("CASEIMPORT_MAX_UPLOAD_BYTES", 200 * 1024 * 1024),
        caseimport=caseimport,
        python=Path(sys.executable),
    )
