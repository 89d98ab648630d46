"""PostgreSQL's own time for the same files, with ``psql``: the floor the service is held to.

- add: ``\\copy`` the add file straight into an empty table with the file's columns and the
  same unique keys as ``cases``, folded by PostgreSQL (generated columns);
- modify: in one transaction, ``\\copy`` the modify file into a temporary staging table,
  ``ANALYZE`` it, and one ``UPDATE ... FROM`` of that table once it holds the add file.

Each timed step is one ``psql`` process, started after a ``CHECKPOINT``.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import time
from dataclasses import dataclass

from bench import prepare
from bench.config import BenchError, Config
from bench.generate import CsvFile

TABLE = "bench_baseline"

# The comparison keys (docs/format.md) folded by PostgreSQL itself, as a loader in plain SQL
# would fold them; the worker writes the same keys, computed by api/cases/keys.py.
TAG_KEY_SQL = "lower(tag_id)"
ABOUT_KEY_SQL = r"lower(regexp_replace(btrim(about), '\s+', ' ', 'g'))"


@dataclass(frozen=True, slots=True)
class Baselines:
    """Each measure's own baseline, run just before it: this machine's speed drifts by up to
    twice over minutes (the host is shared), so a baseline taken once at the start would
    compare imports with a different machine. Each pair runs under the same conditions."""

    add_seconds: float  # before the add
    modify_seconds: float  # before the modify
    validate_only_seconds: float  # before validate_only
    invalid_seconds: float  # before the all-invalid file


def _psql() -> str:
    """The machine's psql, else the one that comes with the service's own PostgreSQL."""
    found = shutil.which("psql")
    if found:
        return found
    from pgserver._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / "psql")


async def psql(config: Config, script: str) -> tuple[float, str]:
    """Run ``script`` in one psql process; its wall time and output."""
    env = dict(os.environ, PGOPTIONS="-c datestyle=ISO,MDY")
    started = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        _psql(),
        "-X",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        config.database_url,
        "-f",
        "-",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await proc.communicate(script.encode())
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise BenchError(f"psql failed ({proc.returncode}): {err.decode().strip()}")
    return seconds, out.decode()


def _tag_count(output: str, tag: str) -> int:
    found = re.findall(rf"^{tag} (\d+)$", output, flags=re.MULTILINE)
    if not found:
        raise BenchError(f"psql printed no {tag} count: {output.strip()[:200]}")
    return int(found[-1])


def _copy(table: str, columns: str, file: CsvFile) -> str:
    path = str(file.path)
    if "'" in path:
        raise BenchError(f"the data folder path may not hold a quote: {path}")
    return f"\\copy {table} ({columns}) FROM '{path}' WITH (FORMAT csv, HEADER true)\n"


async def add(config: Config, file: CsvFile) -> float:
    """The add baseline: ``\\copy`` of ``file`` into a fresh table."""
    seconds = await _load(config, file)
    await drop(config)
    return seconds


async def _load(config: Config, file: CsvFile) -> float:
    """``\\copy`` of ``file`` into a fresh table, left loaded; the copy's time."""
    await psql(
        config,
        f"""DROP TABLE IF EXISTS {TABLE};
            CREATE TABLE {TABLE} (
                tag_id text NOT NULL,
                case_status smallint NOT NULL,
                date_opened date NOT NULL,
                about text NOT NULL,
                tag_key text GENERATED ALWAYS AS ({TAG_KEY_SQL}) STORED,
                about_key text GENERATED ALWAYS AS ({ABOUT_KEY_SQL}) STORED
            );
            CREATE UNIQUE INDEX {TABLE}_tag_key ON {TABLE} (tag_key);
            CREATE UNIQUE INDEX {TABLE}_about_key ON {TABLE} (about_key);
        """,
    )
    await prepare.checkpoint(config)
    seconds, out = await psql(config, _copy(TABLE, "tag_id, case_status, date_opened, about", file))
    if (copied := _tag_count(out, "COPY")) != file.rows:
        raise BenchError(f"baseline add copied {copied:,} rows, not {file.rows:,}")
    return seconds


async def modify(config: Config, add_file: CsvFile, modify_file: CsvFile) -> float:
    """The modify baseline, on a table freshly loaded with ``add_file`` (not timed)."""
    await _load(config, add_file)
    # The modify starts from the loaded table with fresh statistics; neither is timed.
    await psql(config, f"ANALYZE {TABLE};")
    await prepare.checkpoint(config)
    seconds, out = await psql(
        config,
        f"""BEGIN;
            CREATE TEMPORARY TABLE bench_stage (
                tag_id text NOT NULL,
                case_status smallint,
                about text,
                tag_key text GENERATED ALWAYS AS ({TAG_KEY_SQL}) STORED
            ) ON COMMIT DROP;
            {_copy("bench_stage", "tag_id, case_status, about", modify_file)}
            ANALYZE bench_stage;
            UPDATE {TABLE} b SET case_status = s.case_status, about = s.about
            FROM bench_stage s WHERE b.tag_key = s.tag_key;
            COMMIT;
        """,
    )
    if (updated := _tag_count(out, "UPDATE")) != modify_file.rows:
        raise BenchError(f"baseline modify updated {updated:,} rows, not {modify_file.rows:,}")
    await drop(config)
    return seconds


async def drop(config: Config) -> None:
    """The baseline's table goes before the service's import is timed (also after a failure)."""
    await psql(config, f"DROP TABLE IF EXISTS {TABLE};")
