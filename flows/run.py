"""The run flow: ingest, then digest."""

from __future__ import annotations

from prefect import flow

from flows.digest import DigestReport, digest
from flows.ingest import IngestReport, ingest
from flows.settings import Settings
from flows.sources import Source

__all__ = ["run"]


@flow(name="run", log_prints=False)
def run(
    settings: Settings, sources: list[Source] | None = None, send: bool = True
) -> tuple[IngestReport, DigestReport]:
    """Ingest every source, then write and send the digest."""
    return ingest(settings, sources), digest(settings, send=send)
