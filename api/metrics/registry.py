"""A few Prometheus metrics in the text format, without a client library.

Request counts live in this process (each API replica is scraped on its own); import counts
are read from PostgreSQL at scrape time, so every replica reports the same truth.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

REQUESTS: Counter[tuple[str, str]] = Counter()


def count_request(method: str, status: int) -> None:
    REQUESTS[(method, f"{status // 100}xx")] += 1


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(imports_by_status: Iterable[tuple[str, str, int]], uploads_in_flight: int) -> str:
    lines = [
        "# HELP caseimport_uploads_in_flight Uploads this API process is receiving or storing.",
        "# TYPE caseimport_uploads_in_flight gauge",
        f"caseimport_uploads_in_flight {uploads_in_flight}",
        "# HELP caseimport_http_requests_total HTTP requests answered by this API process.",
        "# TYPE caseimport_http_requests_total counter",
    ]
    for (method, status_class), count in sorted(REQUESTS.items()):
        lines.append(
            f'caseimport_http_requests_total{{method="{method}",status="{status_class}"}} {count}'
        )
    lines += [
        "# HELP caseimport_imports Imports by type and status.",
        "# TYPE caseimport_imports gauge",
    ]
    for type_key, status, count in imports_by_status:
        lines.append(f'caseimport_imports{{type="{_escape(type_key)}",status="{status}"}} {count}')
    return "\n".join(lines) + "\n"
