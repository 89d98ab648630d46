"""``python -m bench`` (``make bench``): the benchmark of docs/performance.md.

Environment: ``ROWS`` (default 1,000,000), ``DATABASE_URL`` and ``REDIS_URL`` (default the
dedicated ``caseimport_bench`` database and Redis db 12: both are wiped), ``BENCH_UPLOAD_MIB``
(the large upload, default 200), ``BENCH_POLLERS`` (100), ``BENCH_SEED``, ``BENCH_DATA_DIR``
(generated files, default bench/.data), ``BENCH_OUT_DIR`` (logs and results, default bench/out).

Progress goes to stderr; stdout gets the table, then one line of JSON with every figure. The
exit status is 0 when every import ended as expected, whether or not the targets were met,
and 1 when something broke (then no figures are printed).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from types import FrameType

from bench import config as bench_config
from bench import report
from bench.config import BenchError
from bench.run import run


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # unwinds like Ctrl-C: the service's processes are stopped


def main() -> int:
    signal.signal(signal.SIGTERM, _stop)
    try:
        config = bench_config.load()
        results = asyncio.run(run(config))
    except BenchError as exc:
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    figures = report.figures(results)
    text = report.table(figures)
    line = json.dumps(figures, ensure_ascii=False, separators=(",", ":"))
    config.out_dir.mkdir(parents=True, exist_ok=True)
    (config.out_dir / "last.md").write_text(text + "\n")
    (config.out_dir / "last.json").write_text(line + "\n")
    print(text)
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
