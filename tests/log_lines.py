"""A server process of the project (``caseimport api`` or ``worker``) on the test database and
Redis, its standard error kept in a file, and its log lines read back, as an operator's log
shipper would read them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

CASEIMPORT = str(Path(sys.executable).with_name("caseimport"))


@dataclass
class Logged:
    process: subprocess.Popen[bytes]
    stderr: Path
    url: str = ""

    def stop(self) -> None:
        """SIGTERM, as a service manager stops it; its last lines are written by then."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def text(self) -> str:
        return self.stderr.read_text(encoding="utf-8")

    def records(self) -> list[dict[str, Any]]:
        """Every line, each parsed as one JSON object (a line that is not one fails the test)."""
        found = []
        for line in self.text().splitlines():
            record = json.loads(line)
            assert isinstance(record, dict), line
            found.append(record)
        return found


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _spawn(folder: Path, env: dict[str, str], *argv: str) -> Logged:
    stderr = folder / f"{argv[0]}.stderr"
    with stderr.open("wb") as out:
        process = subprocess.Popen(
            [CASEIMPORT, *argv],
            env={**os.environ, "CASEIMPORT_DB_POOL_SIZE": "2", **env},
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    return Logged(process, stderr)


def start_api(folder: Path, **env: str) -> Logged:
    """``caseimport api`` with these settings, once it answers /readyz."""
    port = _free_port()
    api = _spawn(folder, env, "api", "--port", str(port))
    api.url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert api.process.poll() is None, api.text()
        try:
            if httpx.get(f"{api.url}/readyz", timeout=1).status_code == 200:
                return api
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    api.stop()
    raise AssertionError(f"the API did not get ready:\n{api.text()}")


def start_worker(folder: Path, **env: str) -> Logged:
    """``caseimport worker`` with these settings (and no lowered priority)."""
    return _spawn(folder, {"CASEIMPORT_WORKER_NICE": "0", **env}, "worker")
