"""Logging for every process (``caseimport api``, ``worker``, and so ``run`` and the image): one
JSON object a line (CASEIMPORT_LOG_FORMAT=json), or readable text for a terminal (the default).

structlog renders its own events and the standard library's records (uvicorn's, arq's, the
project's ``logging.getLogger`` ones) through one formatter on the root logger, so every line has
the same shape and carries what was bound for the request or the import it was logged under
(``request_id``, ``user_id``, ``app_id``, ``import_id``: contextvars, see ``bind``).
"""

from __future__ import annotations

import logging
import sys
import uuid
from typing import Literal

import structlog
from structlog.typing import EventDict, Processor

LogFormat = Literal["json", "text"]

# The loggers that libraries give handlers of their own (uvicorn's default config): theirs are
# dropped, so that their records reach the root's one formatter.
_LIBRARY_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "arq")


def configure_logging(log_format: LogFormat, level: int = logging.INFO) -> None:
    """Send every log line of this process to stderr in ``log_format``."""
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    rendering: list[Processor]
    if log_format == "json":
        rendering = [
            structlog.processors.format_exc_info,
            # The name log shippers (Loki, Elasticsearch, Datadog) read the text from.
            structlog.processors.EventRenamer("message"),
            _basics_first,
            structlog.processors.JSONRenderer(),
        ]
    else:
        rendering = [
            structlog.dev.ConsoleRenderer(
                colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
            )
        ]
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in _LIBRARY_LOGGERS:
        library = logging.getLogger(name)
        library.handlers.clear()
        library.propagate = True


_BASICS = ("timestamp", "level", "logger", "message")


def _basics_first(_: object, __: str, event: EventDict) -> EventDict:
    """When, how bad, where and what lead each line (for a person reading the JSON, too)."""
    return {**{key: event[key] for key in _BASICS if key in event}, **event}


def bind(**ids: uuid.UUID | str | int | None) -> None:
    """Name what the current request or job concerns in every line logged after this in the
    same task (and in the tasks it starts); ``None`` values are left out."""
    structlog.contextvars.bind_contextvars(
        **{
            key: str(value) if isinstance(value, uuid.UUID) else value
            for key, value in ids.items()
            if value is not None
        }
    )


def bound(key: str) -> str | None:
    """What ``bind`` named ``key`` in the current context, if anything."""
    value = structlog.contextvars.get_contextvars().get(key)
    return value if isinstance(value, str) else None
