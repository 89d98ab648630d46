"""``caseimport run`` as a newcomer starts it: no DATABASE_URL, no REDIS_URL, no server of
the machine's in reach (PATH holds only the project's own scripts, and the service's own
servers listen on unix sockets); then a push from another shell, a worker killed and started
again, and Ctrl-C."""

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


def _child(parent: int, command: str) -> int:
    """The pid of ``parent``'s child process running ``caseimport <command>``."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
                line = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent and command.encode() in line:
                return int(entry.name)
    raise AssertionError(f"no caseimport {command} under process {parent}")


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
    said: list[str] = []

    async def read_stderr() -> None:  # all along, so that the children never block on it
        assert run.stderr is not None
        while line := await run.stderr.readline():
            said.append(line.decode())

    async def told(words: str) -> str:
        async with asyncio.timeout(120):
            while words not in "".join(said):
                assert not reader.done(), f"caseimport run ended early:\n{''.join(said)}"
                await asyncio.sleep(0.05)
        return "".join(said)

    reader = asyncio.create_task(read_stderr())
    try:
        first = await told("Ctrl-C stops everything")
        assert "First run: sign in at" in first
        token = re.search(r"cit_\S+", first)
        assert token is not None, first

        async def push(rows: str, name: str) -> str:
            good = tmp_path / f"{name}.csv"
            good.write_text(rows, encoding="utf-8")
            pushed = await asyncio.to_thread(
                subprocess.run,
                [CASEIMPORT, "push", str(good), "--app", "demo", "--type", "add"],
                env=env
                | {"CASEIMPORT_URL": f"http://127.0.0.1:{port}", "CASEIMPORT_TOKEN": token[0]},
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert pushed.returncode == 0, pushed.stderr
            return pushed.stdout

        assert "completed: 2 rows, 2 created" in await push(GOOD, "good")
        # A worker that dies is started again, and the next import runs.
        os.kill(_child(run.pid, "worker"), signal.SIGKILL)
        await told("starting it again")
        again = ADD_HEADER + "R-3,1,1/15/2024,Run three\r\n"
        assert "completed: 1 row, 1 created" in await push(again, "again")
    finally:
        if run.returncode is None:
            os.killpg(run.pid, signal.SIGINT)  # Ctrl-C reaches the whole foreground group
    async with asyncio.timeout(60):
        await run.wait()
        await reader
    assert run.returncode == 0
    assert _processes_using(data) == []
