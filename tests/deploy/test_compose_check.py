"""compose.yaml and its check without a Docker engine (.ci/compose-check): the real file passes,
and each mistake `docker compose config` or `up` would stop at is named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / ".ci" / "compose-check"


def run_check(path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if k != "CASEIMPORT_SECRET_KEY"}
    return subprocess.run(
        [sys.executable, str(CHECK), str(path)],
        env={**environment, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_compose_file_checks_out() -> None:
    done = run_check(REPO / "compose.yaml", CASEIMPORT_SECRET_KEY="a-secret")
    assert done.returncode == 0, done.stderr
    assert "check out" in done.stdout


def test_the_compose_file_requires_the_secret_key() -> None:
    done = run_check(REPO / "compose.yaml")
    assert done.returncode == 1
    assert "required variable CASEIMPORT_SECRET_KEY is not set" in done.stderr
    # Said once, though the shared block puts it in three services.
    assert done.stderr.count("CASEIMPORT_SECRET_KEY is not set") == 1


def test_a_dotenv_file_beside_it_supplies_variables(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a:\n    image: ${IMAGE}\n")
    (tmp_path / ".env").write_text("# the image\nIMAGE=postgres:15.14-bookworm\n")
    assert run_check(tmp_path / "compose.yaml").returncode == 0


def test_the_stack_waits_for_its_migrations_and_runs_two_workers() -> None:
    services = YAML(typ="safe", pure=True).load((REPO / "compose.yaml").read_text())["services"]
    assert set(services) >= {"postgres", "redis", "migrate", "api", "worker"}
    assert services["migrate"]["command"] == ["migrate"]
    for role in ("api", "worker"):
        assert services[role]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    assert services["worker"]["deploy"]["replicas"] == 2
    assert services["worker"]["command"] == ["worker"]


BROKEN = {
    "a depends_on target that is no service": (
        "services:\n  a:\n    image: x:1\n    depends_on: [b]\n",
        "services.a.depends_on: 'b' is not a service",
    ),
    "a mistyped key (the schema)": (
        "services:\n  a:\n    image: x:1\n    depends_onn: [a]\n",
        "schema:",
    ),
    "neither image nor build": (
        "services:\n  a:\n    command: [run]\n",
        "services.a: neither image nor build is set",
    ),
    "a port out of range": (
        "services:\n  a:\n    image: x:1\n    ports: ['80000:8000']\n",
        "80000 is not a port",
    ),
    "a port that does not parse": (
        "services:\n  a:\n    image: x:1\n    ports: ['8000:web']\n",
        "is not [ip:][host:]container[/protocol]",
    ),
    "one host port published twice": (
        "services:\n  a:\n    image: x:1\n    ports: ['8000:80']\n"
        "  b:\n    image: x:1\n    ports: ['127.0.0.1:8000:80']\n",
        "host port 8000 is also a's",
    ),
    "replicas publishing one host port": (
        "services:\n  a:\n    image: x:1\n    ports: ['8000:80']\n    deploy: {replicas: 2}\n",
        "2 replicas cannot all publish host port 8000",
    ),
    "a container_name on replicas": (
        "services:\n  a:\n    image: x:1\n    container_name: one\n    deploy: {replicas: 2}\n",
        "container_name cannot be set",
    ),
    "waiting for health that is never reported": (
        "services:\n  a:\n    image: x:1\n"
        "  b:\n    image: x:1\n    depends_on: {a: {condition: service_healthy}}\n",
        "a has no health check",
    ),
    "waiting for a service that restarts to complete": (
        "services:\n  a:\n    image: x:1\n    restart: unless-stopped\n"
        "  b:\n    image: x:1\n    depends_on: {a: {condition: service_completed_successfully}}\n",
        "a restarts (unless-stopped)",
    ),
    "a depends_on cycle": (
        "services:\n  a:\n    image: x:1\n    depends_on: [b]\n"
        "  b:\n    image: x:1\n    depends_on: [a]\n",
        "depends_on cycle: a -> b -> a",
    ),
    "an undeclared named volume": (
        "services:\n  a:\n    image: x:1\n    volumes: ['data:/var/lib/data']\n",
        "named volume 'data' is not declared",
    ),
    "an undeclared network": (
        "services:\n  a:\n    image: x:1\n    networks: [back]\n",
        "'back' is not declared in networks",
    ),
    "a variable without a value or default": (
        "services:\n  a:\n    image: x:${TAG_NOBODY_SETS}\n",
        "variable TAG_NOBODY_SETS is not set and has no default",
    ),
    "a build context that does not exist": (
        "services:\n  a:\n    build: ./nowhere\n",
        "does not exist",
    ),
    "a missing env_file": (
        "services:\n  a:\n    image: x:1\n    env_file: [missing.env]\n",
        "missing.env does not exist",
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_each_mistake_is_named(tmp_path: Path, case: str) -> None:
    text, message = BROKEN[case]
    (tmp_path / "compose.yaml").write_text(text)
    done = run_check(tmp_path / "compose.yaml")
    assert done.returncode == 1
    assert message in done.stderr


def test_the_images_own_health_check_counts_and_a_disabled_one_does_not(tmp_path: Path) -> None:
    waits = "    depends_on: {a: {condition: service_healthy}}\n"
    healthy = f"services:\n  a:\n    build: {REPO}\n  b:\n    image: x:1\n{waits}"
    (tmp_path / "compose.yaml").write_text(healthy)
    assert run_check(tmp_path / "compose.yaml").returncode == 0
    disabled = healthy.replace(
        f"build: {REPO}\n", f"build: {REPO}\n    healthcheck: {{disable: true}}\n"
    )
    (tmp_path / "compose.yaml").write_text(disabled)
    done = run_check(tmp_path / "compose.yaml")
    assert done.returncode == 1
    assert "a has no health check" in done.stderr


def test_interpolation_follows_compose(tmp_path: Path) -> None:
    # Defaults (nested), alternatives and $$ give what Compose gives; only then is it checked.
    (tmp_path / "compose.yaml").write_text(
        "services:\n  a:\n    image: ${REPO_:-${FALLBACK:-x}}:${TAG:+ignored}1\n"
        "    command: ['echo', '$$HOME']\n    ports: ['${PORT:-8000}:80']\n"
    )
    assert run_check(tmp_path / "compose.yaml").returncode == 0
    done = run_check(tmp_path / "compose.yaml", PORT="99999")
    assert "99999 is not a port" in done.stderr
