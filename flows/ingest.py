"""The ingest flow: poll each source, fetch new articles, extract events, merge incidents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE
from prefect.runtime import task_run
from prefect.tasks import exponential_backoff

from extract.article import extract_page
from extract.errors import BasewatchError, FetchError, TransientFetchError
from extract.events import extract_events
from extract.gazetteer import default_gazetteer
from flows.alerts import send_alerts as alert_subscribers
from flows.feeds import FeedEntry, parse_feed, read_seed_dir
from flows.fetch import Fetcher, HostGate, check_url
from flows.mail import send_source_alert
from flows.settings import Settings, load_settings
from flows.sources import Source, load_sources
from flows.store import ArticleIn, SourceChange, Store, open_store

__all__ = ["IngestReport", "build_article", "ingest", "make_fetcher"]


@dataclass(frozen=True)
class Poll:
    """A source's poll: its entries, or why it failed (expected faults are values, not raises)."""

    source: str
    entries: tuple[FeedEntry, ...] = ()
    error: str | None = None
    not_modified: bool = False
    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True)
class Fetched:
    """A fetched article, or why it could not be had."""

    entry: FeedEntry
    article: ArticleIn | None = None
    error: str | None = None


@dataclass
class IngestReport:
    """What an ingest run did, for the summary line."""

    sources_ok: list[str] = field(default_factory=list)
    sources_failed: dict[str, str] = field(default_factory=dict)
    articles_new: int = 0
    articles_failed: int = 0
    events: int = 0
    incidents_new: set[int] = field(default_factory=set)
    incidents_updated: set[int] = field(default_factory=set)
    alerts_made: int = 0
    alerts_sent: int = 0
    alerts_failed: int = 0


def _retry_transient(task, task_run, state) -> bool:
    """Retry only transient fetch faults (timeouts, 5xx, 429), never a 404 or a bad feed."""
    try:
        state.result()
    except TransientFetchError:
        return True
    except Exception:  # noqa: BLE001 - any other failure is final
        return False
    return False


def _last_attempt(retries: int) -> bool:
    return (task_run.run_count or 1) > retries


@task(cache_policy=NONE, retry_condition_fn=_retry_transient)
def poll_source(
    source: Source, etag: str | None, last_modified: str | None, settings: Settings
) -> Poll:
    """Return the source's entries (feed over HTTP, local feed file, or seed folder)."""
    try:
        if source.kind == "seed_dir":
            return Poll(source.name, tuple(read_seed_dir(Path(source.location))))
        if source.kind == "feed_file":
            content = Path(source.location).read_bytes()
            return Poll(source.name, tuple(parse_feed(content, source.name, fetch_pages=False)))
        with make_fetcher(settings) as fetcher:
            check_url(source.location)
            response = fetcher.get(source.location, etag, last_modified)
        if response.status == 304:
            return Poll(source.name, not_modified=True, etag=etag, last_modified=last_modified)
        return Poll(
            source.name,
            tuple(parse_feed(response.content, source.name)),
            etag=response.etag,
            last_modified=response.last_modified,
        )
    except TransientFetchError as exc:
        if not _last_attempt(settings.retries):
            raise
        return Poll(source.name, error=f"{exc} (after {settings.retries + 1} attempts)")
    except (BasewatchError, OSError) as exc:
        return Poll(source.name, error=str(exc))


@task(cache_policy=NONE, retry_condition_fn=_retry_transient)
def fetch_article(entry: FeedEntry, settings: Settings) -> Fetched:
    """Return the entry's article: the page fetched once and its main text extracted."""
    now = datetime.now(UTC)
    origin = "sidecar" if entry.from_sidecar else None
    try:
        content: str | bytes | None = entry.content
        if entry.fetch_page:
            try:
                check_url(entry.link)
                with make_fetcher(settings) as fetcher:
                    content = fetcher.get(entry.link).content
            except FetchError as exc:
                # A feed that carries the full article still gives us the text.
                if entry.content is None or (
                    isinstance(exc, TransientFetchError) and not _last_attempt(settings.retries)
                ):
                    raise
        if content is None:
            return Fetched(entry, error=f"{entry.link}: the feed entry has no content")
        if not entry.content_is_html and isinstance(content, str) and not entry.fetch_page:
            return Fetched(entry, build_article(entry, content, None, origin, now))
        page = extract_page(content, entry.link)
        if page is None:
            return Fetched(entry, error=f"{entry.link}: no article text in the page")
        return Fetched(entry, build_article(entry, page.text, page.date, origin, now))
    except TransientFetchError as exc:
        if not _last_attempt(settings.retries):
            raise
        return Fetched(entry, error=f"{exc} (after {settings.retries + 1} attempts)")
    except BasewatchError as exc:
        return Fetched(entry, error=str(exc))


def make_fetcher(settings: Settings) -> Fetcher:
    """Return a Fetcher with the settings' timeouts, size cap and politeness."""
    return Fetcher(
        user_agent=settings.user_agent,
        connect_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
        max_bytes=settings.max_response_bytes,
        gate=HostGate(settings.max_per_host, settings.min_host_delay),
        robots=settings.respect_robots,
    )


def build_article(
    entry: FeedEntry, text: str, page_date, fixed: str | None, now: datetime
) -> ArticleIn:
    """Return the article with its publication time: page, else feed, else fetch time."""
    if fixed and entry.published:
        published, origin = entry.published, fixed
    elif page_date is not None:
        if entry.published and entry.published.date() == page_date:
            published = entry.published  # same day: the feed adds the time of day
        else:
            published = datetime.combine(page_date, time(12, 0), tzinfo=UTC)
        origin = "page"
    elif entry.published:
        published, origin = entry.published, "feed"
    else:
        published, origin = now, "fetched"  # flagged: relative dates may be off
    title = entry.title or text.strip().splitlines()[0][:300]
    return ArticleIn(
        url=entry.link,
        guid=entry.guid,
        title=title,
        published=published,
        published_from=origin,
        text=text,
    )


def store_article(store: Store, source: str, article: ArticleIn, report: IngestReport) -> None:
    """Extract the article's events and store both, counting what is new."""
    events = extract_events(article.text, article.published, article.url, store.gazetteer)
    stored = store.add_article(source, article, events)
    if stored is None:
        return
    _, new_ids, touched = stored
    report.articles_new += 1
    report.events += len(events)
    report.incidents_new.update(new_ids)
    report.incidents_updated.update(i for i in touched if i not in report.incidents_new)


def _tell_ops(settings: Settings, source: str, change: SourceChange | None) -> None:
    """Mail ops once when a source has been failing too long, and once when it recovers."""
    if change is not None:
        send_source_alert(settings, change.kind, source, change.error, change.since)


def _publish_summary(report: IngestReport) -> None:
    """Attach the run's summary to the flow run as a markdown artifact (seen in the UI)."""
    from prefect.artifacts import create_markdown_artifact

    rows = [(name, reason.replace("|", "\\|")) for name, reason in report.sources_failed.items()]
    failed = "".join(f"\n| {name} | {reason} |" for name, reason in sorted(rows))
    create_markdown_artifact(
        key="ingest-summary",
        description="basewatch ingest summary",
        markdown=(
            f"## Ingest\n\n| sources ok | sources failed | new articles | events | "
            f"incidents new | incidents updated |\n|---|---|---|---|---|---|\n"
            f"| {len(report.sources_ok)} | {len(report.sources_failed)} | {report.articles_new} | "
            f"{report.events} | {len(report.incidents_new)} | {len(report.incidents_updated)} |\n"
            + (f"\n### Failed sources\n\n| source | error |\n|---|---|{failed}\n" if failed else "")
        ),
    )


@flow(name="ingest", log_prints=False)
def ingest(
    settings: Settings | None = None,
    sources: list[Source] | None = None,
    send_alerts: bool = True,
) -> IngestReport:
    """Poll every source (default: the settings' sources file), store new articles and their
    events, and merge them into incidents; then alert immediate subscribers to new attacks
    (``send_alerts=False`` leaves the alerts pending). Without settings (a scheduled run),
    they are read from the BASEWATCH_* environment."""
    logger = get_run_logger()
    settings = settings or load_settings()
    if sources is None:
        sources = load_sources(settings.sources)
    store = open_store(settings.resolved_database_url, default_gazetteer())
    report = IngestReport()
    delays = exponential_backoff(backoff_factor=settings.retry_delay)(settings.retries)
    poll = poll_source.with_options(
        retries=settings.retries, retry_delay_seconds=delays, retry_jitter_factor=0.5
    )
    fetch = fetch_article.with_options(
        retries=settings.retries, retry_delay_seconds=delays, retry_jitter_factor=0.5
    )

    alert_after = timedelta(hours=settings.source_alert_hours)
    futures = []
    for source in (s for s in sources if s.polled):
        etag, last_modified = store.source_state(source.name, source.location)
        futures.append((source, poll.submit(source, etag, last_modified, settings)))
    for source, future in futures:
        result: Poll = future.result()
        if result.error:
            logger.warning("source %s: %s", source.name, result.error)
            _tell_ops(
                settings,
                source.name,
                store.record_source(
                    source.name, source.location, error=result.error, alert_after=alert_after
                ),
            )
            report.sources_failed[source.name] = result.error
            continue
        entries = [
            e for e in result.entries if not store.known_article(source.name, e.link, e.guid)
        ]
        fetched = [fetch.submit(entry, settings) for entry in entries]
        failures = 0
        for item in (f.result() for f in fetched):
            if item.article is None:
                failures += 1
                logger.warning("source %s: article skipped: %s", source.name, item.error)
                continue
            store_article(store, source.name, item.article, report)
        report.articles_failed += failures
        # Keep the old validators while an article failed, so the next poll sees it again.
        _tell_ops(
            settings,
            source.name,
            store.record_source(
                source.name,
                source.location,
                etag=result.etag if not failures else None,
                last_modified=result.last_modified if not failures else None,
            ),
        )
        report.sources_ok.append(source.name)
    alerts = alert_subscribers(store, settings, send=send_alerts)
    report.alerts_made, report.alerts_sent = alerts.made, alerts.sent
    report.alerts_failed = len(alerts.failed)
    _publish_summary(report)
    logger.info(
        "ingest: %d sources ok, %d failed; %d new articles, %d events; incidents %d new, "
        "%d updated",
        len(report.sources_ok),
        len(report.sources_failed),
        report.articles_new,
        report.events,
        len(report.incidents_new),
        len(report.incidents_updated),
    )
    return report
