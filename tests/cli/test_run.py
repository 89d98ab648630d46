"""``caseimport run`` as a newcomer starts it: no DATABASE_URL, no REDIS_URL, no server of
the machine's in reach (PATH holds only the project's own scripts, and the service's own
servers listen on unix sockets); then a push from another shell, and Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

from tests.cli.conftest import CASEIMPORT
from tests.importing import ADD_HEADER

GOOD = ADD_HEADER + "R-1,1,1/13/2024,Run one\r\nR-2,0,1/14/2024,Run two\r\n"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _processes_using(folder: Path) -> list[str]:
    """Command lines of the running processes that name ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            if str(folder) in line:
                found.append(line)
    return found


async def test_run_on_a_bare_machine_serves_a_push_and_stops_cleanly(tmp_path: Path) -> None:
    port = _free_port()
    data = tmp_path / "data"
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "TEST_DATABASE_URL", "TEST_REDIS_URL"}
    }
    env |= {
        "PATH": str(Path(sys.executable).parent) + os.pathsep + "/usr/sbin:/sbin",
        "CASEIMPORT_WORKER_NICE": "0",
        "CASEIMPORT_DB_POOL_SIZE": "2",
    }
    run = await asyncio.create_subprocess_exec(
        CASEIMPORT, "run", "--port", str(port), "--data-dir", str(data),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,  # its own process group, as a terminal's foreground job has
    )  # fmt: skip
    assert run.stderr is not None
    told = ""
    try:
        async with asyncio.timeout(120):
            while "Ctrl-C stops everything" not in told:
                line = await run.stderr.readline()
                assert line, f"caseimport run ended early:\n{told}"
                told += line.decode()
        assert "First run: sign in at" in told
        token = re.search(r"cit_\S+", told)
        assert token is not None, told

        good = tmp_path / "good.csv"
        good.write_text(GOOD, encoding="utf-8")
        pushed = await asyncio.to_thread(
            subprocess.run,
            [CASEIMPORT, "push", str(good), "--app", "demo", "--type", "add"],
            env=env | {"CASEIMPORT_URL": f"http://127.0.0.1:{port}", "CASEIMPORT_TOKEN": token[0]},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert pushed.returncode == 0, pushed.stderr
        assert "completed: 2 rows, 2 created" in pushed.stdout
    finally:
        if run.returncode is None:
            os.killpg(run.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    async with asyncio.timeout(60):
        await run.communicate()
    assert run.returncode == 0
    assert _processes_using(data) == []
