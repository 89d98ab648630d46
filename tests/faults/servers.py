"""The fault suite's own PostgreSQL cluster and Redis server, which it stops, kills and starts.

PostgreSQL is Debian's (``initdb`` and ``pg_ctl`` from ``/usr/lib/postgresql/*/bin``, or on the
PATH); PostgreSQL refuses to run as root, so as root every one of its commands runs as the
``postgres`` user (or ``pgserver``, the user ``cli/embedded.py``'s wheel makes) through
``runuser``. Redis is the machine's ``redis-server``. Both listen on a free TCP port of
127.0.0.1, so that the service's processes reach them exactly as in production.
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def answers(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.3)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def postgres_bin() -> Path | None:
    """The folder of Debian's server binaries (the newest), or of ``initdb`` on the PATH."""
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).resolve().parent
    return None


def redis_bin() -> str | None:
    return shutil.which("redis-server")


def missing_binaries() -> str | None:
    """Why the suite cannot run here, or None."""
    if postgres_bin() is None:
        return (
            "PostgreSQL's server binaries (initdb, pg_ctl) are missing: "
            "apt-get install postgresql (make test-faults installs them)"
        )
    if redis_bin() is None:
        return "redis-server is missing: apt-get install redis-server"
    if os.geteuid() == 0 and _postgres_user() is None:
        return (
            "running as root, and neither a postgres nor a pgserver user exists to run PostgreSQL"
        )
    return None


def _postgres_user() -> str | None:
    for name in ("postgres", "pgserver"):
        try:
            pwd.getpwnam(name)
        except KeyError:
            continue
        return name
    return None


@dataclass
class Postgres:
    """One cluster in ``folder``, on ``port``; its server log is ``folder/postgres.log``."""

    folder: Path
    port: int
    bin: Path
    user: str | None = None  # the OS user it runs as (as root); None: the current one

    @property
    def data(self) -> Path:
        return self.folder / "data"

    @property
    def log(self) -> Path:
        return self.folder / "postgres.log"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _argv(self, tool: str, *args: str) -> list[str]:
        argv = [str(self.bin / tool), *args]
        if self.user is not None:
            return ["runuser", "-u", self.user, "--", *argv]
        return argv

    @classmethod
    def create(cls, folder: Path) -> Postgres:
        bin_dir = postgres_bin()
        assert bin_dir is not None
        user = _postgres_user() if os.geteuid() == 0 else None
        folder.mkdir(parents=True)
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        server = cls(folder, free_port(), bin_dir, user)
        subprocess.run(
            server._argv(
                "initdb", "-D", str(server.data), "-U", "postgres", "--auth=trust",
                "-E", "UTF8", "--locale=C", "--no-sync",
            ),
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=120,
        )  # fmt: skip
        with (server.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"\nport = {server.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{server.folder}'\n"
                "max_connections = 100\n"
                # Only a machine crash would need these; a killed server recovers from its WAL.
                "fsync = off\n"
                "full_page_writes = off\n"
            )
        return server

    def _pg_ctl(self, *args: str) -> list[str]:
        return self._argv("pg_ctl", "-D", str(self.data), "-l", str(self.log), *args)

    def start(self) -> None:
        subprocess.run(self._pg_ctl("-w", "-t", "60", "start"), check=True, timeout=90)

    async def restart(self, mode: str = "fast") -> None:
        """``pg_ctl restart -m MODE``, without blocking the event loop (a poller runs beside)."""
        process = await asyncio.create_subprocess_exec(
            *self._pg_ctl("-w", "-t", "60", "-m", mode, "restart"),
            stdout=subprocess.DEVNULL,
        )
        assert await asyncio.wait_for(process.wait(), 90) == 0

    def stop(self, mode: str = "fast") -> None:
        subprocess.run(
            self._pg_ctl("-w", "-t", "60", "-m", mode, "stop"),
            check=False,
            stdout=subprocess.DEVNULL,
            timeout=90,
        )

    def running(self) -> bool:
        return answers(self.port)


@dataclass
class Redis:
    """A redis-server on ``port``, that forgets everything when stopped (as a cache would)."""

    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None
    _logs: list[BinaryIO] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log(self) -> Path:
        return self.folder / "redis.log"

    def start(self) -> None:
        binary = redis_bin()
        assert binary is not None
        self.folder.mkdir(parents=True, exist_ok=True)
        log = self.log.open("ab")
        self._logs.append(log)
        self.process = subprocess.Popen(
            [
                binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", str(self.folder),
            ],
            stdout=log,
            stderr=log,
        )  # fmt: skip
        deadline = time.monotonic() + 15
        while not answers(self.port):
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on {self.port}; see {self.log}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process is None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def close(self) -> None:
        self.stop()
        for log in self._logs:
            log.close()
