"""The lock files (scripts/lock): in sync with pyproject.toml, hashed, one set of pins; and a
dependency added without locking it again fails the check with what to do."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PIN = re.compile(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", re.M)


def check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "lock"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )


def copy_of_the_repo_files(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy2(REPO / "scripts" / "lock", tmp_path / "scripts" / "lock")
    for name in ("pyproject.toml", "requirements.lock", "requirements-dev.lock"):
        shutil.copy2(REPO / name, tmp_path / name)
    return tmp_path


def test_the_locks_match_pyproject() -> None:
    done = check(REPO)
    assert done.returncode == 0, done.stderr


def test_a_dependency_added_without_locking_fails_with_what_to_do(tmp_path: Path) -> None:
    root = copy_of_the_repo_files(tmp_path)
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text()
    pyproject.write_text(
        text.replace('    "asyncpg>=', '    "left-pad-nobody-has>=1",\n    "asyncpg>=', 1)
    )
    done = check(root)
    assert done.returncode == 1
    assert "left-pad-nobody-has>=1 (not in the lock)" in done.stderr
    assert "make lock" in done.stderr


def test_a_raised_bound_the_pin_misses_is_named(tmp_path: Path) -> None:
    root = copy_of_the_repo_files(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(re.sub(r'"fastapi>=[^"]*"', '"fastapi>=999"', pyproject.read_text()))
    done = check(root)
    assert done.returncode == 1
    assert re.search(r"fastapi>=999 \(the lock has [0-9.]+\)", done.stderr)


def test_a_comment_in_pyproject_needs_no_new_lock(tmp_path: Path) -> None:
    root = copy_of_the_repo_files(tmp_path)
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("dev = [\n", "dev = [\n    # a note\n"))
    assert check(root).returncode == 0


def test_every_pin_is_hashed_and_the_dev_lock_keeps_the_runtime_pins() -> None:
    runtime = (REPO / "requirements.lock").read_text()
    dev = (REPO / "requirements-dev.lock").read_text()
    for text in (runtime, dev):
        # pip's --require-hashes refuses a file where any pin lacks one.
        entries = re.split(r"\n(?=[a-z0-9])", text.split("\n", 3)[3])
        assert all("--hash=sha256:" in entry for entry in entries if "==" in entry)
    runtime_pins = dict(PIN.findall(runtime))
    dev_pins = dict(PIN.findall(dev))
    assert {"fastapi", "python-multipart", "uvicorn"} <= set(runtime_pins)
    assert {name: dev_pins.get(name) for name in runtime_pins} == runtime_pins
    # The build backend is locked too: the image installs the project without fetching it.
    assert "setuptools" in runtime_pins
