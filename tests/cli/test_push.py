"""``caseimport push`` and ``caseimport imports`` as a CI job runs them: a process against the
real API and worker processes, judged by exit code, stdout and stderr."""

from __future__ import annotations

import asyncio
import csv
import json
import subprocess
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.cli.conftest import CASEIMPORT, Service
from tests.factories import AdminSetup, admin_setup
from tests.importing import ADD_HEADER, cases_by_tag

GOOD = ADD_HEADER + "P-1,1,1/13/2024,Pushed one\r\nP-2,0,1/14/2024,Pushed two\r\n"
BAD = ADD_HEADER + "B-1,9,1/13/2024,Bad status\r\nB-2,1,02/30/2024,Bad date\r\n"
HALF = ADD_HEADER + "H-1,1,1/13/2024,Good half\r\nH-2,9,1/13/2024,Bad half\r\n"


def _env(service: Service, token: str) -> dict[str, str]:
    return {**service.env, "CASEIMPORT_URL": service.url, "CASEIMPORT_TOKEN": token}


async def _run(service: Service, admin: AdminSetup, *argv: str) -> subprocess.CompletedProcess[str]:
    return await asyncio.to_thread(
        subprocess.run,
        [CASEIMPORT, *argv],
        env=_env(service, admin.token),
        capture_output=True,
        text=True,
        timeout=120,
    )


async def _push(
    service: Service, admin: AdminSetup, file: str, type_: str, *options: str
) -> subprocess.CompletedProcess[str]:
    """``caseimport push FILE --app <the admin's app> --type TYPE`` with these options."""
    return await _run(service, admin, "push", file, "--app", admin.slug, "--type", type_, *options)


def _file(tmp_path: Path, name: str, content: str) -> str:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return str(path)


async def _imports(service: Service, admin: AdminSetup) -> list[dict[str, object]]:
    listed = await _run(service, admin, "imports", "list", "--app", admin.slug, "--json")
    assert listed.returncode == 0, listed.stderr
    items: list[dict[str, object]] = json.loads(listed.stdout)["items"]
    return items


async def test_a_good_file_exits_0_and_its_cases_exist(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await _push(live, admin, _file(tmp_path, "good.csv", GOOD), "add")
    assert done.returncode == 0, done.stderr
    assert "completed: 2 rows, 2 created" in done.stdout
    assert f"{live.url}/#/apps/{admin.slug}/imports/" in done.stdout
    assert "uploading" in done.stderr  # progress goes to stderr, a line at a time in a log
    assert set(await cases_by_tag(sessionmaker)) == {"P-1", "P-2"}


async def test_a_bad_file_exits_1_with_its_errors_printed_and_saved(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    saved = tmp_path / "errors.csv"
    done = await _push(
        live,
        admin,
        _file(tmp_path, "bad.csv", BAD),
        "cases.add",
        "--errors-out",
        str(saved),
    )
    assert done.returncode == 1, done.stderr
    assert "2 rows have errors." in done.stdout
    assert 'case_status "9" is not valid' in done.stdout
    assert "02/30/2024" in done.stdout
    assert "The first 2 errors (2 errors on 2 rows in all)" in done.stdout
    # As the API serves it: UTF-8 behind a byte-order mark, for Excel.
    rows = list(csv.DictReader(saved.open(encoding="utf-8-sig")))
    assert [(r["line"], r["column"], r["code"]) for r in rows] == [
        ("2", "case_status", "invalid_status"),
        ("3", "date_opened", "invalid_date"),
    ]
    assert await cases_by_tag(sessionmaker) == {}


async def test_skipped_rows_exit_3_and_json_is_the_only_stdout(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await _push(
        live,
        admin,
        _file(tmp_path, "half.csv", HALF),
        "add",
        "--on-error",
        "skip",
        "--json",
    )
    assert done.returncode == 3, done.stderr
    pushed = json.loads(done.stdout)  # one document, nothing else
    assert (pushed["status"], pushed["result"]["created"], pushed["result"]["failed"]) == (
        "completed",
        1,
        1,
    )
    assert [(e["line"], e["code"]) for e in pushed["errors"]] == [(3, "invalid_status")]
    assert pushed["url"].endswith(f"/imports/{pushed['id']}")
    assert "completed" in done.stderr  # the human summary went to stderr


async def test_the_same_idempotency_key_imports_once(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    argv = (
        "push",
        _file(tmp_path, "good.csv", GOOD),
        "--app",
        admin.slug,
        "--type",
        "add",
        "--name",
        "nightly",
        "--idempotency-key",
        "ci-run-4711",
    )
    first = await _run(live, admin, *argv)
    again = await _run(live, admin, *argv)
    assert (first.returncode, again.returncode) == (0, 0), again.stderr
    assert "This push was made before (Idempotency-Key ci-run-4711)" in again.stderr
    assert len(await _imports(live, admin)) == 1


async def test_an_api_stopped_mid_upload_is_retried_into_exactly_one_import(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    live.stop_worker()  # only the upload matters here
    rows = "".join(f"R-{n},1,1/13/2024,Row number {n} of a long file\r\n" for n in range(2_500_000))
    big = tmp_path / "big.csv"
    big.write_text(ADD_HEADER + rows, encoding="utf-8")
    client = await asyncio.create_subprocess_exec(
        CASEIMPORT,
        "push",
        str(big),
        "--app",
        admin.slug,
        "--type",
        "add",
        "--no-wait",
        env=_env(live, admin.token),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert client.stderr is not None
    assert b"uploading" in await client.stderr.readline()  # the upload is under way
    live.stop_api()
    await asyncio.sleep(0.3)
    await asyncio.to_thread(live.start_api)
    _, err = await asyncio.wait_for(client.communicate(), 120)
    assert client.returncode == 0, err.decode()
    assert b"trying again" in err
    [stored] = await _imports(live, admin)
    assert stored["file"]["size_bytes"] == big.stat().st_size  # type: ignore[index]


async def test_an_invalid_token_exits_5_with_one_clear_line(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    done = await _push(
        live,
        admin,
        _file(tmp_path, "good.csv", GOOD),
        "add",
        "--token",
        "ci_not-a-token",
    )
    assert done.returncode == 5
    assert done.stderr.strip().splitlines()[-1] == (
        "caseimport: The API token is not valid: it may be mistyped, expired or revoked."
    )


async def test_a_timeout_exits_6_naming_the_import_and_wait_takes_it_up(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    live.stop_worker()
    done = await _push(
        live,
        admin,
        _file(tmp_path, "good.csv", GOOD),
        "add",
        "--timeout",
        "1",
    )
    assert done.returncode == 6, done.stderr
    [waiting] = await _imports(live, admin)
    assert f"import {waiting['id']}" in done.stdout

    live.start_worker()
    waited = await _run(live, admin, "imports", "wait", str(waiting["id"]), "--app", admin.slug)
    assert waited.returncode == 0, waited.stderr
    forever = await _run(
        live, admin, "imports", "wait", str(waiting["id"]), "--app", admin.slug, "--timeout", "inf"
    )
    assert forever.returncode == 0, forever.stderr  # no timeout at all
    shown = await _run(
        live, admin, "imports", "show", str(waiting["id"]), "--app", admin.slug, "--json"
    )
    assert json.loads(shown.stdout)["status"] == "completed"


async def test_imports_errors_and_cancel_from_a_script(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    failed = await _push(
        live,
        admin,
        _file(tmp_path, "bad.csv", BAD),
        "add",
        "--json",
    )
    import_id = json.loads(failed.stdout)["id"]
    errors = await _run(live, admin, "imports", "errors", import_id, "--app", admin.slug, "--json")
    assert [e["line"] for e in json.loads(errors.stdout)] == [2, 3]

    live.stop_worker()
    queued = await _push(
        live,
        admin,
        _file(tmp_path, "good.csv", GOOD),
        "add",
        "--no-wait",
        "--json",
        "--name",
        "later",
    )
    later = json.loads(queued.stdout)["id"]
    cancelled = await _run(live, admin, "imports", "cancel", later, "--app", admin.slug)
    assert (cancelled.returncode, cancelled.stdout.strip()) == (0, 'Import "later" is cancelled.')
    waited = await _run(live, admin, "imports", "wait", later, "--app", admin.slug)
    assert waited.returncode == 4


async def test_imports_check_again_checks_a_plan_s_file_again_from_a_script(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    checked = await _push(
        live,
        admin,
        _file(tmp_path, "good.csv", GOOD),
        "add",
        "--validate-only",
        "--json",
    )
    assert checked.returncode == 0, checked.stderr
    plan = json.loads(checked.stdout)
    # P-1 (line 2 of the plan's file) is created since.
    pushed = await _push(
        live,
        admin,
        _file(tmp_path, "p1.csv", ADD_HEADER + "P-1,1,1/13/2024,Pushed one\r\n"),
        "add",
        "--json",
    )
    assert pushed.returncode == 0, pushed.stderr

    waited = await _run(
        live, admin, "imports", "check-again", plan["id"], "--app", admin.slug, "--wait", "--json"
    )
    assert waited.returncode == 1, waited.stderr  # the check failed: P-1 exists now
    again = json.loads(waited.stdout)
    assert (again["name"], again["checks_again"], again["validate_only"]) == (
        f"{plan['name']} (checked again)",
        plan["id"],
        True,
    )
    assert {e["line"] for e in again["errors"]} == {2}  # its tag, and its description, are taken

    queued = await _run(live, admin, "imports", "check-again", plan["id"], "--app", admin.slug)
    assert queued.returncode == 0, queued.stderr
    assert queued.stdout.startswith(f'Import "{plan["name"]} (checked again) (2)" is queued')

    applied = json.loads(pushed.stdout)["id"]
    refused = await _run(live, admin, "imports", "check-again", applied, "--app", admin.slug)
    assert refused.returncode == 5
    assert "Only a check-only (validate_only) import can be checked again" in refused.stderr


async def test_a_plan_is_applied_and_reverted_from_a_script(
    live: Service, sessionmaker: async_sessionmaker[AsyncSession], tmp_path: Path
) -> None:
    admin = await admin_setup(sessionmaker)
    # A file with its own headers, mapped on the command line; one column left out.
    mapped = (
        "Case Number,Status,Opened,Notes,Internal\r\n"
        "M-1,1,1/13/2024,Mapped one,x-1\r\n"
        "M-2,0,1/14/2024,Mapped two,x-2\r\n"
    )
    columns = json.dumps(
        {
            "Case Number": "tag_id",
            "Status": "case_status",
            "Opened": "date_opened",
            "Notes": "about",
            "Internal": None,
        }
    )
    checked = await _push(
        live,
        admin,
        _file(tmp_path, "mapped.csv", mapped),
        "add",
        "--columns",
        columns,
        "--validate-only",
        "--json",
    )
    assert checked.returncode == 0, checked.stderr
    plan = json.loads(checked.stdout)
    assert plan["result"]["created"] == 2
    assert await cases_by_tag(sessionmaker) == {}

    applied = await _run(
        live, admin, "imports", "apply", plan["id"], "--app", admin.slug, "--wait", "--json"
    )
    assert applied.returncode == 0, applied.stderr
    done = json.loads(applied.stdout)
    assert (done["name"], done["plan_id"], done["status"]) == (
        f"{plan['name']} (applied)",
        plan["id"],
        "completed",
    )
    assert set(await cases_by_tag(sessionmaker)) == {"M-1", "M-2"}

    reverted = await _run(
        live, admin, "imports", "revert", done["id"], "--app", admin.slug, "--wait"
    )
    assert reverted.returncode == 0, reverted.stderr
    assert "completed" in reverted.stdout
    assert await cases_by_tag(sessionmaker) == {}
    again = await _run(live, admin, "imports", "revert", done["id"], "--app", admin.slug)
    assert again.returncode == 5
    assert "reverted already" in again.stderr

    refused = await _push(
        live,
        admin,
        _file(tmp_path, "x.csv", mapped),
        "add",
        "--columns",
        "[1]",
    )
    assert refused.returncode == 2
    assert "a JSON object of file headers to fields" in refused.stderr
