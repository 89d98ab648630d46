"""One typed settings object, read from the environment: API, worker and alembic share it."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET = "dev-insecure-secret-change-me"  # noqa: S105 - a placeholder refused outside development


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEIMPORT_", extra="ignore")

    # The two conventional names are read without the prefix.
    database_url: str = Field(
        default="postgresql://postgres@127.0.0.1:5432/caseimport",
        validation_alias="DATABASE_URL",
    )
    redis_url: str = Field(default="redis://127.0.0.1:6379/0", validation_alias="REDIS_URL")

    environment: Literal["development", "production"] = "development"
    secret_key: str = DEV_SECRET
    max_upload_bytes: int = 200 * 1024 * 1024
    upload_chunk_bytes: int = 1024 * 1024
    # An upload's body is received into a local temporary file before any database work, so a
    # slow client holds no connection; these bound how long and how slowly it may send.
    upload_idle_seconds: float = Field(default=30, gt=0)
    upload_min_bytes_per_second: int = Field(default=1024, ge=0)
    upload_rate_grace_seconds: float = Field(default=10, ge=0)
    # Uploads being received at once, per API process: per app, and per token (or signed-in user).
    upload_max_per_app: int = Field(default=10, ge=1)
    upload_max_per_token: int = Field(default=4, ge=1)
    # The form's fields beside the file: how many parts, and their bytes (names, headers, values).
    upload_max_form_fields: int = Field(default=50, ge=1)
    upload_max_form_bytes: int = Field(default=256 * 1024, ge=1024)
    # Where uploads are received (an unnamed file, gone when closed); by default the system's.
    upload_spool_dir: str | None = None
    session_hours: int = 12
    login_max_failures: int = 5
    login_window_seconds: int = 900
    # How long each sign-in to an account waits while the account has had login_max_failures
    # failures in the window (from any addresses): guesses slow down, the owner is not locked out.
    login_slowdown_seconds: float = Field(default=1.0, ge=0, le=30)
    # The reverse proxies in front of the API (addresses or networks, comma separated; "*" for
    # any). Only a request from one of them may name its client in X-Forwarded-For: otherwise a
    # client could choose the address its failed sign-ins are counted under.
    trusted_proxies: str = ""
    # Connections an API process keeps open: enough for the requests in flight under a poll
    # load, so that none has to open (and close again) a connection of its own.
    db_pool_size: int = Field(default=20, ge=1)
    # A line per request in the API's log (uvicorn's; in JSON logs the API's own, with its ids).
    # Behind a proxy that logs requests already, turn it off: under a poll load it is CPU and a
    # write per request.
    access_log: bool = True
    # "json": a JSON object a line, for a log shipper; "text": readable in a terminal (api/logs.py).
    log_format: Literal["json", "text"] = "text"
    worker_concurrency: int = 4
    # A running import's worker renews its lease twice a second; one silent this long is
    # frozen or cut off, and its database session is ended so that another worker can go on.
    worker_lease_seconds: int = 20
    # Imports are batch work: a worker process lowers its CPU priority by this much (os.nice),
    # so that on a shared machine the API answers status polls first.
    worker_nice: int = Field(default=10, ge=0, le=19)
    max_attempts: int = 3
    # How often the reconciler looks for imports whose worker is gone (a few statements).
    reconcile_seconds: float = 2
    max_kept_errors: int = 1000
    # An import's event stream (GET .../events) sends a keep-alive comment this often when idle,
    # so that proxies keep it open; and each API process serves at most this many streams.
    events_heartbeat_seconds: float = Field(default=15, gt=0)
    events_max_streams: int = Field(default=2000, ge=1)
    idempotency_hours: int = 24
    # Uploaded files are kept this long, then the worker deletes their content (their name,
    # size and hash stay); never while their import is unfinished.
    file_retention_days: int = Field(default=90, ge=1)
    # A bearer token that GET /metrics (the API's and the worker's) requires; unset, it is open.
    metrics_token: SecretStr | None = None
    # The port a worker serves its own /metrics on (0: none), and the address it listens on
    # (every interface by default: Prometheus scrapes it from another host or container).
    worker_metrics_port: int = Field(default=0, ge=0, le=65535)
    worker_metrics_host: str = "0.0.0.0"  # noqa: S104 - off unless a port is set
    # Where the SPA's static files are; by default the frontend/ folder beside the code.
    frontend_dir: str | None = None
    # The SPA's own origin for the cookie CSRF check; by default the request's own scheme and host.
    public_origin: str | None = None
    # Webhooks (docs/webhooks.md). URLs that resolve to private, loopback, link-local or other
    # non-public addresses are refused, at registration and at each delivery, unless allowed.
    webhooks_allow_private: bool = False
    webhooks_timeout_seconds: float = Field(default=10, gt=0, le=60)
    # A failed delivery is tried again after this, then twice as long each time (at most an
    # hour apart), until retry_hours after its event.
    webhooks_retry_base_seconds: float = Field(default=10, gt=0)
    webhooks_retry_hours: float = Field(default=24, gt=0)
    # How often an idle worker looks for deliveries due, and how many it sends at once.
    webhooks_poll_seconds: float = Field(default=1, gt=0)
    webhooks_concurrency: int = Field(default=4, ge=0)
    # Events, their deliveries and attempts are kept this long (a pending one longer), then
    # deleted by a worker.
    webhooks_keep_days: int = Field(default=30, ge=2)

    @field_validator("database_url")
    @classmethod
    def _plain_postgres_url(cls, value: str) -> str:
        if not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("DATABASE_URL must be a postgresql:// URL")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _addresses_or_networks(cls, value: str) -> str:
        # uvicorn would take a mistyped entry for a name that never matches: say so at start-up.
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        for entry in entries:
            if entry == "*":
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"CASEIMPORT_TRUSTED_PROXIES: {entry!r} is not an IP address or network"
                ) from None
        return ", ".join(entries)

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        # CASEIMPORT_METRICS_TOKEN= (set but empty) means no token, not the empty one.
        return value or None

    @field_validator("upload_spool_dir")
    @classmethod
    def _spool_dir_exists(cls, value: str | None) -> str | None:
        # Checked at start: a missing folder would otherwise fail every upload with a file.
        if value and not Path(value).is_dir():
            raise ValueError(f"CASEIMPORT_UPLOAD_SPOOL_DIR {value!r} is not an existing folder")
        return value or None

    @model_validator(mode="after")
    def _no_placeholder_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEV_SECRET:
            raise ValueError("set CASEIMPORT_SECRET_KEY: the development placeholder is refused")
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The same database for SQLAlchemy's asyncpg dialect."""
        _, rest = self.database_url.split("://", 1)
        return f"postgresql+asyncpg://{rest}"


@lru_cache
def get_settings() -> Settings:
    return Settings()
