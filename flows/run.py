"""The run flow: ingest, then digest."""

from __future__ import annotations

from datetime import datetime

from prefect import flow

from flows.digest import DigestReport, digest
from flows.ingest import IngestReport, ingest
from flows.settings import Settings
from flows.sources import Source

__all__ = ["run"]


@flow(name="run", log_prints=False)
def run(
    settings: Settings,
    sources: list[Source] | None = None,
    send: bool = True,
    now: datetime | None = None,
) -> tuple[IngestReport, DigestReport]:
    """Ingest every source (alerting immediate subscribers), then write and send the digest."""
    return ingest(settings, sources, send_alerts=send), digest(settings, send=send, now=now)
