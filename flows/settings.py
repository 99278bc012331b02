"""Settings from BASEWATCH_* environment variables; flags override them."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from extract.errors import ConfigError

__all__ = ["Settings", "load_settings"]


class Settings(BaseSettings):
    """Everything basewatch can be told; the defaults work offline."""

    model_config = SettingsConfigDict(env_prefix="BASEWATCH_", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str | None = None
    sources: Path = Path("sources.yaml")

    # Fetching: explicit timeouts, a size cap and a real User-Agent.
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    max_response_bytes: int = 5_000_000
    user_agent: str = "basewatch/0.1 (+https://github.com/basewatch/basewatch; news monitoring)"
    max_per_host: int = 2
    min_host_delay: float = 1.0
    respect_robots: bool = True
    retries: int = 2
    retry_delay: float = 2.0
    max_workers: int = 4

    # Backfill: pages per task, worker processes (Dask) and where history is listed.
    backfill_batch: int = Field(default=25, ge=1, le=1000)
    backfill_workers: int = Field(default=1, ge=1, le=64)
    backfill_max_pages: int = Field(default=1000, ge=1)  # of one paged feed
    gdelt_url: str = "https://api.gdeltproject.org/api/v2/doc/doc"
    gdelt_interval: float = Field(default=5.0, ge=0)  # GDELT asks for one request per 5 s
    gdelt_max_records: int = Field(default=250, ge=1, le=250)
    gdelt_chunk_days: float = Field(default=7.0, gt=0)

    # Schedules for `basewatch serve` (cron, in the named timezone; DST is handled by it).
    ingest_cron: str = "*/15 * * * *"
    digest_cron: str = "0 7 * * *"
    timezone: str = "UTC"

    # Ops: one mail when a source has failed for this long, and one when it works again.
    ops_email: str | None = None
    source_alert_hours: float = 6.0

    # Delivery: the .eml outbox unless an SMTP host is set.
    mail_from: str = "basewatch <basewatch@localhost>"
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_timeout: float = 30.0

    # Signed links in mail (unsubscribe, preferences): the key (else <data_dir>/secret.key),
    # how long a link works, and where `basewatch web` is reached.
    secret_key: SecretStr | None = None
    token_max_age_days: float = 60.0
    base_url: str = "http://127.0.0.1:8080"

    # `basewatch web`: where it listens (flags --host/--port override), and one line per request.
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=0, le=65535)
    web_access_log: bool = False

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like Asia/Baghdad)")
        return value

    @field_validator("ingest_cron", "digest_cron")
    @classmethod
    def _five_field_cron(cls, value: str) -> str:
        # Five fields; Prefect checks the rest when `basewatch serve` builds the schedule.
        if not re.fullmatch(r"\s*(?:[\w*/,\-?]+\s+){4}[\w*/,\-?]+\s*", value):
            raise ValueError(f"not a five-field cron expression: {value!r}")
        return value.strip()

    @field_validator("base_url")
    @classmethod
    def _http_base_url(cls, value: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"not an http(s) URL: {value!r}")
        return value.strip().rstrip("/")

    @property
    def resolved_secret_key(self) -> str:
        """Return BASEWATCH_SECRET_KEY, else the key kept in <data_dir>/secret.key."""
        from flows.tokens import secret_key

        return secret_key(self)

    @property
    def token_max_age(self) -> float:
        """Return how long a signed link works, in seconds."""
        return self.token_max_age_days * 86400

    @property
    def resolved_database_url(self) -> str:
        """Return the database URL: the setting, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'basewatch.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        """Return where .eml files go when no SMTP host is set."""
        return self.data_dir / "outbox"

    @property
    def digest_dir(self) -> Path:
        """Return where rendered digests (HTML, text, .eml) are written."""
        return self.data_dir / "digests"


def load_settings(**overrides: object) -> Settings:
    """Return settings from the environment with flag overrides; ConfigError names a bad value."""
    try:
        return Settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = str(error["loc"][0]) if error["loc"] else "?"
        value = error.get("input")
        raise ConfigError(
            f"BASEWATCH_{field.upper()}: {error['msg'].lower()} ({value!r})"
        ) from None
