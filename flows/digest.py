"""The digest flow: the global edition (archive) and each subscriber's digest, written, sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from prefect import flow, get_run_logger

from extract.digest import select_digest, snapshot
from extract.gazetteer import default_gazetteer
from flows.mailings import deliver_pending as _deliver
from flows.mailings import make_mailings
from flows.settings import Settings, load_settings
from flows.store import Store, open_store
from reports.deliver import build_message, message_id, write_digest_files
from reports.render import RenderedDigest, render_digest

__all__ = ["DigestReport", "deliver_pending", "digest"]


@dataclass
class DigestReport:
    """What a digest run did, for the summary line."""

    digest_id: int | None = None
    new: int = 0
    updated: int = 0
    path: Path | None = None
    mailed: int = 0  # subscribers' digests made by this run
    sent: int = 0
    failed: list[str] = field(default_factory=list)
    pending: int = 0
    where: str = ""
    stopped: str | None = None
    preview: str | None = None


def deliver_pending(store: Store, settings: Settings, report: DigestReport) -> None:
    """Send every delivery still owed (digests and alerts) and add the counts to the report."""
    done = _deliver(store, settings)
    report.sent += done.sent
    report.failed += done.failed
    report.where = done.where
    report.stopped = done.stopped


def _write_files(store: Store, settings: Settings, digest_id: int) -> Path:
    """Write a stored digest's .html, .txt and .eml files; return the .html path."""
    row = store.digest(digest_id)
    rendered = RenderedDigest(row.subject, row.text, row.html)
    message = build_message(
        rendered,
        sender=settings.mail_from,
        to=None,
        msg_id=message_id(digest_id, "archive"),
        date=row.created,
    )
    return write_digest_files(rendered, message, settings.digest_dir, digest_id)


@flow(name="digest", log_prints=False)
def digest(
    settings: Settings | None = None,
    dry_run: bool = False,
    send: bool = True,
    now: datetime | None = None,
) -> DigestReport:
    """Make the digest of what is new or updated since the last one, and each subscriber's
    digest of what matches their preferences; write the edition and send what is owed.
    Without settings (a scheduled run), they are read from the BASEWATCH_* environment.
    ``now`` is the time of the run (a subscriber's daily or weekly cadence counts from it)."""
    logger = get_run_logger()
    settings = settings or load_settings()
    now = now or datetime.now(UTC)
    store = open_store(settings.resolved_database_url, default_gazetteer())
    report = DigestReport()
    incidents, seen = store.digest_candidates()
    selected = select_digest(incidents, seen, now)
    report.new, report.updated = len(selected.new), len(selected.updated)
    if dry_run:
        report.preview = render_digest(selected, html=False).text
        return report
    if not selected.empty:
        items = [(i.incident.id, i.kind, snapshot(i.incident)) for i in selected.items]
        digest_id = store.create_digest(items, lambda new_id: render_digest(selected, new_id))
        if digest_id is not None:
            report.path = _write_files(store, settings, digest_id)
            report.digest_id = digest_id
            logger.info(
                "digest %d: %d new, %d updated -> %s",
                digest_id,
                report.new,
                report.updated,
                report.path,
            )
    else:
        logger.info("digest: nothing new or updated since the last digest")
    # A run killed between storing its digest and writing the files left them missing (only
    # the newest digest can be in that state; older files an operator removed stay removed).
    for digest_id in store.digest_ids()[-1:]:
        if not (settings.digest_dir / f"digest-{digest_id:04d}.html").exists():
            _write_files(store, settings, digest_id)
    report.mailed = make_mailings(store, "digest", now, report.digest_id)
    logger.info("digest: %d subscriber digests made", report.mailed)
    if send:
        deliver_pending(store, settings, report)
    report.pending = len(store.pending_deliveries())
    _publish_summary(report)
    return report


def _publish_summary(report: DigestReport) -> None:
    """Attach the run's summary to the flow run as a markdown artifact (seen in the UI)."""
    from prefect.artifacts import create_markdown_artifact

    made = f"#{report.digest_id}" if report.digest_id is not None else "none (nothing new)"
    create_markdown_artifact(
        key="digest-summary",
        description="basewatch digest summary",
        markdown=(
            "## Digest\n\n| digest | new | updated | subscriber digests | sent | failed | "
            "pending |\n|---|---|---|---|---|---|---|\n"
            f"| {made} | {report.new} | {report.updated} | {report.mailed} | {report.sent} | "
            f"{len(report.failed)} | {report.pending} |\n"
        ),
    )
