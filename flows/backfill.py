"""The backfill flow: past articles over a date window, from listings or from the store.

list (paged feed, sitemap, GDELT, URL file) -> pages recorded in the store -> fetch + extract
in batches (tasks; on Dask workers with --workers N) -> stored by this flow alone, one
transaction per batch, with each page's status. An interrupted run resumes at the first page
not stored; a finished range run again lists the pages but fetches none it already has.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NONE

from extract.errors import BasewatchError, ConfigError, TransientFetchError
from extract.events import extract_events
from extract.gazetteer import default_gazetteer
from flows.feeds import FeedEntry
from flows.fetch import check_url
from flows.history import gdelt_pages, paged_feed_pages, read_url_file, sitemap_pages
from flows.ingest import build_article, make_fetcher
from flows.progress import current
from flows.settings import Settings, load_settings
from flows.sources import Source, load_sources
from flows.store import (
    BatchStored,
    PageIn,
    PageOutcome,
    PendingPage,
    StoredArticle,
    open_store,
)

__all__ = ["BackfillReport", "backfill", "backfill_runner"]

URL_FILE_SOURCE = "urls"  # the source name of pages from --urls without --source


@dataclass(frozen=True)
class Listing:
    """The pages a source's listings gave, or why they failed (a value, not a raise)."""

    source: str
    pages: tuple[PageIn, ...] = ()
    error: str | None = None


@dataclass
class BackfillReport:
    """What a backfill run did, for the summary line."""

    run_id: int = 0
    resumed: bool = False
    reextract: bool = False
    since: date | None = None
    until: date | None = None
    sources_ok: list[str] = field(default_factory=list)
    sources_failed: dict[str, str] = field(default_factory=dict)
    pages: int = 0  # fetched (or re-extracted) by this run
    had: int = 0  # listed, but stored (or found outside the window) by an earlier run
    articles_new: int = 0
    known: int = 0
    outside: int = 0
    failed: int = 0
    changed: int = 0  # re-extracted articles whose events changed
    events: int = 0
    incidents_new: set[int] = field(default_factory=set)
    incidents_updated: set[int] = field(default_factory=set)
    digest: Any = None  # the DigestReport of --notify

    def add(self, stored: BatchStored) -> None:
        """Count what a stored batch changed."""
        self.articles_new += stored.articles
        self.known += stored.known
        self.events += stored.events
        self.changed += stored.changed
        self.incidents_new |= stored.incidents_new
        self.incidents_updated |= stored.incidents_updated - self.incidents_new


def _run_key(since: date, until: date, source: str | None, urls: Path | None, reextract: bool):
    """Return the key that makes a rerun of the same backfill resume its unfinished run."""
    urls_hash = hashlib.sha256(urls.read_bytes()).hexdigest() if urls else None
    raw = json.dumps([since.isoformat(), until.isoformat(), source, urls_hash, reextract])
    return hashlib.sha256(raw.encode()).hexdigest()


# -- listing ---------------------------------------------------------------------------------


@task(cache_policy=NONE)
def list_source(source: Source, since: date, until: date, settings: Settings) -> Listing:
    """Return the pages the source's paged feed, sitemap and GDELT query list for the window."""
    plan = source.backfill
    pages: dict[str, PageIn] = {}
    try:
        with make_fetcher(settings) as fetcher:
            found: list[PageIn] = []
            if plan.paged_feed:
                found += paged_feed_pages(
                    fetcher, plan.paged_feed, source.name, since, until, settings.backfill_max_pages
                )
            if plan.sitemap:
                found += sitemap_pages(fetcher, plan.sitemap, since, until)
            if plan.gdelt_query:
                found += gdelt_pages(
                    fetcher,
                    settings.gdelt_url,
                    plan.gdelt_query,
                    since,
                    until,
                    interval=settings.gdelt_interval,
                    max_records=settings.gdelt_max_records,
                    chunk=timedelta(days=settings.gdelt_chunk_days),
                )
    except (BasewatchError, OSError) as exc:
        return Listing(source.name, error=str(exc))
    for page in found:
        known = pages.get(page.url)
        # The listing that dates the page wins (a sitemap gives none).
        if known is None or (known.published is None and page.published is not None):
            pages[page.url] = page
    return Listing(source.name, tuple(pages.values()))


# -- fetch and extract (on workers) ----------------------------------------------------------


def _fetch_page(fetcher, page: PendingPage, since: date, until: date, settings, gazetteer):
    entry = FeedEntry(guid=page.url, link=page.url, title=page.title, published=page.published)
    attempts = settings.retries + 1
    for attempt in range(attempts):
        try:
            check_url(page.url)
            response = fetcher.get(page.url)
            break
        except TransientFetchError as exc:
            if attempt + 1 == attempts:
                return PageOutcome(page.page_id, "failed", error=f"{exc} (after {attempts} tries)")
            # Exponential backoff with jitter, as the ingest flow's task retries.
            time.sleep(settings.retry_delay * 2**attempt * (1 + random.random() / 2))
        except BasewatchError as exc:
            return PageOutcome(page.page_id, "failed", error=str(exc))
    from extract.article import extract_page

    text = extract_page(response.content, page.url)
    if text is None:
        return PageOutcome(page.page_id, "failed", error=f"{page.url}: no article text in the page")
    article = build_article(entry, text.text, text.date, None, datetime.now(UTC))
    # DOMAIN.md: the article's own date, in its own timezone, decides the window.
    if not since <= article.published.date() <= until:
        when = article.published.date().isoformat()
        return PageOutcome(page.page_id, "outside", error=f"published {when}")
    events = extract_events(article.text, article.published, article.url, gazetteer)
    return PageOutcome(page.page_id, "stored", article, tuple(events))


@task(cache_policy=NONE)
def fetch_pages(
    pages: list[PendingPage], since: date, until: date, settings: Settings
) -> list[PageOutcome]:
    """Return each page fetched, its text extracted and its events found (or why not)."""
    gazetteer = default_gazetteer()
    with make_fetcher(settings) as fetcher:
        return [_fetch_page(fetcher, p, since, until, settings, gazetteer) for p in pages]


@task(cache_policy=NONE)
def reextract_articles(articles: list[StoredArticle]) -> list[tuple[int, list]]:
    """Return (article id, events) for stored articles, with the current extraction rules."""
    gazetteer = default_gazetteer()
    return [(a.article_id, extract_events(a.text, a.published, a.url, gazetteer)) for a in articles]


def _in_order(submit, batches: list, inflight: int):
    """Yield the results of ``submit(batch)`` in submission order, with at most ``inflight``
    batches running: the store sees the same order however many workers there are."""
    queue: deque = deque()
    for batch in batches:
        queue.append(submit(batch))
        if len(queue) >= inflight:
            yield queue.popleft().result()
    while queue:
        yield queue.popleft().result()


# -- the flow --------------------------------------------------------------------------------


def backfill_runner(workers: int) -> Any:
    """Return the task runner for ``workers``: threads for one, else a local Dask cluster of
    that many single-threaded worker processes (extraction is CPU-bound: the GIL would keep
    threads on one core)."""
    if workers <= 1:
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=2)
    # Dask's workers log their start and stop at INFO; keep the terminal to our own lines.
    os.environ.setdefault("DASK_LOGGING__DISTRIBUTED", "error")
    os.environ.setdefault("DASK_DISTRIBUTED__WORKER__DAEMON", "false")
    from prefect_dask import DaskTaskRunner

    return DaskTaskRunner(
        cluster_kwargs={
            "n_workers": workers,
            "threads_per_worker": 1,
            "processes": True,
            # The scheduler's HTTP server on a free loopback port: Dask's default, 8787, may
            # be taken, which prints a warning.
            "dashboard_address": "127.0.0.1:0",
        }
    )


def _workers_from_environment() -> int:
    """Return BASEWATCH_BACKFILL_WORKERS for a deployment run (a worker process imports this
    module and runs the flow as decorated; `basewatch backfill` chooses its own runner)."""
    try:
        return max(1, int(os.environ.get("BASEWATCH_BACKFILL_WORKERS", "1")))
    except ValueError:
        return 1  # the flow's load_settings() reports the bad value


@flow(name="backfill", log_prints=False, task_runner=backfill_runner(_workers_from_environment()))
def backfill(
    settings: Settings | None = None,
    since: date | None = None,
    until: date | None = None,
    source: str | None = None,
    urls: str | None = None,
    reextract: bool = False,
    notify: bool = False,
    sources: list[Source] | None = None,
) -> BackfillReport:
    """Backfill since..until: list past articles (each configured source's paged feed,
    sitemap and GDELT query, or the --urls file), fetch and extract them, and store them;
    or, with ``reextract``, extract stored articles again. Sends email only with ``notify``."""
    logger = get_run_logger()
    settings = settings or load_settings()
    if since is None or until is None:
        raise ConfigError("backfill needs both since and until")
    store = open_store(settings.resolved_database_url, default_gazetteer())
    url_file = Path(urls) if urls else None
    key = _run_key(since, until, source, url_file, reextract)
    options = {"source": source, "urls": urls, "reextract": reextract}
    run_id, resumed = store.start_backfill(key, since, until, options)
    report = BackfillReport(
        run_id=run_id, resumed=resumed, reextract=reextract, since=since, until=until
    )
    quiet = run_id if not notify else None
    inflight = max(2, 2 * settings.backfill_workers)
    progress = current()

    if reextract:
        articles = store.stored_articles(since, until, source)
        batches = [
            articles[i : i + settings.backfill_batch]
            for i in range(0, len(articles), settings.backfill_batch)
        ]
        progress.start(len(articles))
        for results in _in_order(reextract_articles.submit, batches, inflight):
            for article_id, events in results:
                report.add(store.replace_events(article_id, events, quiet))
            report.pages += len(results)
            progress.advance(len(results))
    else:
        _list_pages(store, run_id, report, settings, since, until, source, url_file, sources)
        pending = store.pending_backfill_pages(run_id)
        done = sum(store.backfill_counts(run_id).values()) - len(pending)
        batches = [
            pending[i : i + settings.backfill_batch]
            for i in range(0, len(pending), settings.backfill_batch)
        ]
        progress.start(done + len(pending), done)
        fetch = fetch_pages.with_options(name="fetch-pages")

        def submit(batch: list[PendingPage]):
            return fetch.submit(batch, since, until, settings)

        for outcomes in _in_order(submit, batches, inflight):
            report.add(store.store_backfill_batch(run_id, outcomes, quiet=quiet is not None))
            for outcome in outcomes:
                if outcome.status == "failed":
                    report.failed += 1
                    logger.warning("backfill: page skipped: %s", outcome.error)
                elif outcome.status == "outside":
                    report.outside += 1
            report.pages += len(outcomes)
            progress.advance(len(outcomes))
    store.finish_backfill(run_id)
    progress.close()
    logger.info(
        "backfill %s..%s: %d pages, %d new articles, %d events; incidents %d new, %d updated",
        since,
        until,
        report.pages,
        report.articles_new,
        report.events,
        len(report.incidents_new),
        len(report.incidents_updated),
    )
    if notify:
        from flows.digest import digest

        report.digest = digest(settings, send=True)
    return report


def _list_pages(store, run_id, report, settings, since, until, source, url_file, sources):
    """Record the pages to fetch, source by source; a source listed by an interrupted earlier
    attempt of this run is not listed again."""
    logger = get_run_logger()
    listed = store.backfill_discovered(run_id)
    if url_file is not None:
        name = source or URL_FILE_SOURCE
        if name not in listed:
            report.had += store.add_backfill_pages(run_id, name, read_url_file(url_file))
        report.sources_ok.append(name)
        return
    if sources is None:
        sources = load_sources(settings.sources)
    chosen = [s for s in sources if s.backfill and (source is None or s.name == source)]
    if source is not None and not chosen:
        names = [s.name for s in sources]
        if source in names:
            raise ConfigError(f"source {source!r} has no backfill settings in the sources file")
        raise ConfigError(f"no source named {source!r} in the sources file")
    futures = [
        (s, list_source.submit(s, since, until, settings)) for s in chosen if s.name not in listed
    ]
    report.sources_ok += [s.name for s in chosen if s.name in listed]
    for item, future in futures:
        result: Listing = future.result()
        if result.error:
            logger.warning("source %s: backfill listing failed: %s", item.name, result.error)
            report.sources_failed[item.name] = result.error
            continue
        report.had += store.add_backfill_pages(run_id, item.name, list(result.pages))
        report.sources_ok.append(item.name)
