"""Backfill on a past-news site served on 127.0.0.1 (tests/history_site.py): paged feed,
sitemap index, GDELT-like article list, URL files; resume, idempotence, re-extraction, Dask."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Site, SmtpSink
from history_site import HistoryPage, HistorySite, make_pages
from sqlalchemy import select, update

from extract.gazetteer import default_gazetteer
from flows.backfill import backfill, backfill_runner
from flows.cli import main
from flows.digest import digest
from flows.history import gdelt_pages, paged_url, read_url_file, sitemap_pages
from flows.ingest import make_fetcher
from flows.settings import Settings
from flows.store import ArticleRow, BackfillPageRow, EventRow, Store, open_store

ROOT = Path(__file__).resolve().parents[1]
# 40 pages, one every 2 days from 1 Jan 2020 (Iraq time); the window holds pages 8..22.
FIRST = datetime(2020, 1, 1, 13, 0, tzinfo=timezone(timedelta(hours=3)))
SINCE, UNTIL = date(2020, 1, 15), date(2020, 2, 12)


def in_window(history: HistorySite) -> list[HistoryPage]:
    return [p for p in history.pages if SINCE <= p.published.date() <= UNTIL]


def store_of(settings: Settings) -> Store:
    return open_store(settings.resolved_database_url, default_gazetteer())


def page_requests(site: Site, history: HistorySite) -> Counter[str]:
    """Return how often each article page of the history site was fetched."""
    paths = {p.removeprefix(site.base) for p in map(history.url, history.pages)}
    return Counter(r.path for r in site.requests if r.path in paths)


def history_sources(history: HistorySite, **backfill: object) -> list[dict[str, object]]:
    return [
        {
            "name": "history-wire",
            "url": f"{history.base}{history.prefix}/feed",
            "backfill": backfill or {"paged": True},
        }
    ]


@pytest.fixture
def history(site: Site) -> HistorySite:
    return site.add_history(make_pages(40, FIRST, timedelta(days=2)))


# -- listings (no flow) ------------------------------------------------------------------------


def test_paged_url_keeps_other_parameters() -> None:
    assert paged_url("https://x.example/feed/", 3) == "https://x.example/feed/?paged=3"
    assert paged_url("https://x.example/?feed=rss2&paged=1", 2) == (
        "https://x.example/?feed=rss2&paged=2"
    )


def test_paged_feed_and_sitemap_list_the_window(
    history: HistorySite, site: Site, settings: Callable[..., Settings]
) -> None:
    from flows.history import paged_feed_pages

    config = settings([])
    with make_fetcher(config) as fetcher:
        paged = paged_feed_pages(
            fetcher, f"{history.base}{history.prefix}/feed", "hw", SINCE, UNTIL, 100
        )
        mapped = sitemap_pages(fetcher, f"{history.base}{history.prefix}/sitemap_index.xml",
                               SINCE, UNTIL)  # fmt: skip
    wanted = {history.url(p) for p in in_window(history)}
    assert {p.url for p in paged} == wanted
    assert all(p.published is not None for p in paged)
    # 40 pages, 10 a feed page, newest first: the window reaches the oldest page, so paging
    # went on to the 404 after the last page.
    feed_path = f"{history.prefix}/feed"
    asked = [r.path for r in site.requests if r.path.startswith(feed_path + "?")]
    assert asked == [f"{feed_path}?paged={n}" for n in (1, 2, 3, 4, 5)]
    # A later window: paging stops at the first feed page older than --since (page 3).
    with make_fetcher(config) as fetcher:
        later = paged_feed_pages(
            fetcher, history.base + feed_path, "hw", date(2020, 2, 20), date(2020, 3, 31), 100
        )
    asked = [r.path for r in site.requests if r.path.startswith(feed_path + "?")]
    assert asked[5:] == [f"{feed_path}?paged={n}" for n in (1, 2, 3)]
    assert len(later) == 40 - 25
    # lastmod filtering: the window, and up to 7 days after it (a page may be edited later).
    assert wanted <= {p.url for p in mapped}
    assert all(
        SINCE <= p.published.date() <= UNTIL + timedelta(days=7)
        for p in history.pages
        if history.url(p) in {m.url for m in mapped}
    )
    # The child sitemap holding only pages from before the window was never fetched.
    assert [r.path for r in site.requests if "/sitemaps/" in r.path and history.prefix in r.path]


def test_gdelt_windows_are_split_until_no_answer_is_full(
    history: HistorySite, settings: Callable[..., Settings]
) -> None:
    config = settings([])
    waits: list[float] = []
    with make_fetcher(config) as fetcher:
        found = gdelt_pages(
            fetcher,
            f"{history.base}{history.prefix}/gdelt",
            '"rocket attack" sourcelang:english',
            SINCE,
            UNTIL,
            interval=5.0,
            max_records=4,
            chunk=timedelta(days=30),
            sleep=waits.append,
        )
    assert {p.url for p in found} == {history.url(p) for p in in_window(history)}
    requests = history.gdelt_requests
    assert all(r["mode"] == "ArtList" and r["format"] == "json" for r in requests)
    assert {r["maxrecords"] for r in requests} == {"4"}
    assert all(r["query"] == '"rocket attack" sourcelang:english' for r in requests)
    assert len(requests) > 2  # the 30-day windows came back full and were split
    # One request every 5 s: every request after the first waited (the sleep is recorded).
    assert len(waits) == len(requests) - 1 and all(0 < w <= 5.0 for w in waits)


def test_url_file_skips_comments_and_names_a_bad_line(tmp_path: Path) -> None:
    good = tmp_path / "urls.txt"
    good.write_text("# list\nhttps://a.example/x?utm_source=y\n\nhttps://a.example/x\n")
    assert [p.url for p in read_url_file(good)] == ["https://a.example/x"]
    bad = tmp_path / "bad.txt"
    bad.write_text("https://a.example/x\nftp://a.example/y\n")
    from extract.errors import InputError

    with pytest.raises(InputError, match=r"bad.txt:2: not an http\(s\) URL"):
        read_url_file(bad)


# -- the flow ----------------------------------------------------------------------------------


def test_backfill_stores_the_window_once_and_mails_no_one(
    history: HistorySite,
    site: Site,
    settings: Callable[..., Settings],
    smtp_server: SmtpSink,
) -> None:
    config = settings(
        history_sources(
            history, paged=True, sitemap=f"{history.base}{history.prefix}/sitemap_index.xml"
        ),
        smtp=smtp_server,
        backfill_batch=4,
    )
    store = store_of(config)
    store.add_subscriber("analyst@example.org")

    first = backfill(config, since=SINCE, until=UNTIL)
    wanted = in_window(history)
    assert first.sources_ok == ["history-wire"] and not first.sources_failed
    assert (first.articles_new, first.failed) == (len(wanted), 0)
    assert first.incidents_new
    with store.session() as s:
        stored = set(s.scalars(select(ArticleRow.url)))
    assert stored == {history.url(p) for p in wanted}
    # Each page fetched once; pages the sitemap's lastmod let through but dated after the
    # window were fetched and skipped.
    fetched = page_requests(site, history)
    assert set(fetched.values()) == {1}
    assert first.outside == len(fetched) - len(wanted)

    again = backfill(config, since=SINCE, until=UNTIL)
    assert not again.resumed
    assert (again.pages, again.articles_new, again.events) == (0, 0, 0)
    assert again.had == len(fetched)  # listed again, and every page known
    assert page_requests(site, history) == fetched  # nothing fetched twice
    assert store.counts()["articles"] == len(wanted)

    # No --notify: nothing mailed, and the next digest does not present history as new.
    assert smtp_server.received == []
    report = digest(config)
    assert (report.digest_id, report.new, report.sent) == (None, 0, 0)
    assert smtp_server.received == []


def test_notify_mails_the_digest_afterwards(
    history: HistorySite, settings: Callable[..., Settings], smtp_server: SmtpSink, tmp_path: Path
) -> None:
    wanted = in_window(history)[:3]
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{history.url(p)}\n" for p in wanted))
    config = settings([], smtp=smtp_server)
    store_of(config).add_subscriber("analyst@example.org")
    report = backfill(config, since=SINCE, until=UNTIL, urls=str(urls), notify=True)
    assert report.articles_new == 3 and report.sources_ok == ["urls"]
    assert report.digest is not None and report.digest.sent == 1
    assert [r.recipient for r in smtp_server.received] == ["analyst@example.org"]


def test_reextract_replaces_an_articles_events_and_recomputes_incidents(
    history: HistorySite, settings: Callable[..., Settings], tmp_path: Path
) -> None:
    wanted = in_window(history)[:4]
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{history.url(p)}\n" for p in wanted))
    config = settings([])
    store = store_of(config)
    backfill(config, since=SINCE, until=UNTIL, urls=str(urls))
    before = store.incidents()
    with store.session() as s, s.begin():
        article_id = s.scalar(select(ArticleRow.id).where(ArticleRow.url == history.url(wanted[0])))
        events = s.scalars(select(EventRow).where(EventRow.article_id == article_id)).all()
        assert events
        # What an older extractor might have said: a wrong attack type on every event.
        for row in events:
            s.execute(
                update(EventRow)
                .where(EventRow.id == row.id)
                .values(data={**row.data, "attack_type": "mortar"})
            )

    report = backfill(config, since=SINCE, until=UNTIL, reextract=True)
    assert report.pages == 4 and report.changed == 1
    with store.session() as s:
        now = s.scalars(select(EventRow).where(EventRow.article_id == article_id)).all()
    assert [e.data["attack_type"] for e in now] != ["mortar"] * len(now)
    after = store.incidents()
    assert [i.summary.to_dict() for i in after] == [i.summary.to_dict() for i in before]

    same = backfill(config, since=SINCE, until=UNTIL, reextract=True)
    assert (same.pages, same.changed, same.incidents_new, same.incidents_updated) == (
        4,
        0,
        set(),
        set(),
    )


def _content(store: Store) -> tuple:
    """Return what the store holds, ids included (the order things were stored in)."""
    with store.session() as s:
        articles = sorted(s.execute(select(ArticleRow.id, ArticleRow.url, ArticleRow.published)))
        events = sorted(
            (e.article_id, e.incident_id, str(e.data)) for e in s.scalars(select(EventRow))
        )
    incidents = [(i.id, i.summary.to_dict()) for i in store.incidents()]
    return articles, events, incidents


def test_two_dask_workers_store_what_one_worker_stores(
    history: HistorySite, settings: Callable[..., Settings], tmp_path: Path
) -> None:
    urls = tmp_path / "urls.txt"
    urls.write_text("".join(f"{history.url(p)}\n" for p in history.pages))
    one = settings([], backfill_batch=3, data_dir=tmp_path / "one")
    two = one.model_copy(update={"data_dir": tmp_path / "two", "backfill_workers": 2})
    if one.database_url:  # PostgreSQL: a second database for the second run
        from conftest import new_postgres_database

        two = two.model_copy(update={"database_url": new_postgres_database(tmp_path / "two")})
    for config in (one, two):
        flow = backfill.with_options(task_runner=backfill_runner(config.backfill_workers))
        report = flow(config, since=SINCE, until=UNTIL, urls=str(urls))
        assert report.articles_new == len(in_window(history))
    assert type(backfill_runner(2)).__name__ == "DaskTaskRunner"
    assert _content(store_of(one)) == _content(store_of(two))


# -- interrupted and resumed (a real process, a real SIGINT) -----------------------------------


def test_interrupted_backfill_resumes_where_it_stopped(
    site: Site, settings: Callable[..., Settings], tmp_path: Path
) -> None:
    history = site.add_history(make_pages(40, FIRST, timedelta(days=2)))
    history.delay = 0.15  # slow pages: the run is still going when it is interrupted
    config = settings(history_sources(history), backfill_batch=2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
    env.update(
        BASEWATCH_DATA_DIR=str(config.data_dir),
        BASEWATCH_DATABASE_URL=config.resolved_database_url,
        BASEWATCH_SOURCES=str(config.sources),
        BASEWATCH_BACKFILL_BATCH="2",
        BASEWATCH_MIN_HOST_DELAY="0",
        PREFECT_HOME=str(tmp_path / "prefect-home"),
    )
    process = subprocess.Popen(
        [sys.executable, "-c", "from flows.cli import main; main()", "backfill",
         "--since", SINCE.isoformat(), "--until", UNTIL.isoformat()],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    deadline = time.monotonic() + 180
    while sum(page_requests(site, history).values()) < 6:
        assert process.poll() is None, process.stderr.read()
        assert time.monotonic() < deadline, "the backfill never fetched a page"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 1, (out, err)
    assert err.strip().splitlines()[-1] == (
        "Error: interrupted; stored work is kept, run again to resume"
    )
    assert "Traceback" not in err
    # Not a terminal: plain progress lines, the last one written when the run stopped.
    assert re.search(
        r"^backfill: \d+/\d+ pages \(\d+%\), [\d.]+/s, elapsed .*, ETA ", err, re.MULTILINE
    )

    store = store_of(config)
    with store.session() as s:
        before = set(s.scalars(select(ArticleRow.url)))
        statuses = Counter(s.scalars(select(BackfillPageRow.status)))
    wanted = {history.url(p) for p in in_window(history)}
    assert before < wanted and statuses["pending"] > 0
    fetched_before = page_requests(site, history)

    history.delay = 0.0
    report = backfill(config, since=SINCE, until=UNTIL)
    assert report.resumed
    with store.session() as s:
        assert set(s.scalars(select(ArticleRow.url))) == wanted
    # Pages stored before the interruption were not fetched again.
    fetched = page_requests(site, history)
    assert all(fetched[p.removeprefix(site.base)] == 1 for p in before)
    assert report.articles_new == len(wanted) - len(before)
    assert sum(fetched.values()) - sum(fetched_before.values()) == report.pages


# -- the command line --------------------------------------------------------------------------


def test_plain_progress_lines_end_with_one_final_line(capsys: pytest.CaptureFixture) -> None:
    from flows.progress import LineProgress

    progress = LineProgress("backfill", every=3600)
    progress.start(40, done=10)
    progress.advance(5)
    assert capsys.readouterr().err == ""  # not yet time for a line
    progress.advance(25)
    progress.close()
    progress.close()
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("backfill: 40/40 pages (100%), ") and line.endswith("ETA 0:00:00")


def _invoke(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--since", "2020-13-01", "--until", "2020-02-01"), "--since: not a date"),
        (("--since", "2020-03-01", "--until", "2020-02-01"), "is after --until"),
        (("--since", "2020-01-01", "--until", "2020-02-01", "--urls", "nope.txt"), "no such file"),
        (("--since", "2020-01-01", "--until", "2020-02-01", "--source", "zzz"), "no source named"),
    ],
)
def test_backfill_bad_input_is_one_error_line(
    args: tuple[str, ...], fragment: str, tmp_path: Path, history: HistorySite
) -> None:
    from conftest import write_sources

    sources = write_sources(tmp_path / "sources.yaml", history_sources(history))
    result = _invoke("--data-dir", str(tmp_path / "data"), "backfill", *args,
                     "--sources", str(sources))  # fmt: skip
    assert result.exit_code == 2, result.output
    assert result.stderr.strip().startswith("Error: ") and fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("backfill_block", "fragment"),
    [
        ({}, "give at least one of paged, sitemap or gdelt"),
        ({"sitemap": "file:///etc/passwd"}, "backfill.sitemap must be http(s)"),
        ({"crawl": True}, "extra inputs are not permitted"),
    ],
)
def test_invalid_backfill_settings_in_the_sources_file(
    backfill_block: dict, fragment: str, tmp_path: Path
) -> None:
    from conftest import write_sources

    from extract.errors import ConfigError
    from flows.sources import load_sources

    path = write_sources(tmp_path / "s.yaml", [{"name": "x", "backfill": backfill_block}])
    with pytest.raises(ConfigError) as caught:
        load_sources(path)
    assert fragment in str(caught.value).lower()


def test_history_only_sources_are_not_polled(tmp_path: Path) -> None:
    from conftest import write_sources

    from flows.sources import load_sources

    path = write_sources(
        tmp_path / "s.yaml",
        [{"name": "gdelt", "backfill": {"gdelt": "domain:example.org rocket"}}],
    )
    (source,) = load_sources(path)
    assert (source.kind, source.polled, source.backfill.gdelt_query) == (
        "history",
        False,
        "domain:example.org rocket",
    )


def test_summary_lines() -> None:
    from flows.backfill import BackfillReport
    from flows.cli import _backfill_summary

    report = BackfillReport(run_id=3, resumed=True, since=SINCE, until=UNTIL, pages=12, had=3)
    report.sources_ok, report.articles_new, report.outside, report.events = ["wire"], 10, 2, 14
    report.incidents_new, report.incidents_updated = {1, 2}, {3}
    assert _backfill_summary(report) == (
        "backfill 2020-01-15..2020-02-12 (resumed run #3): sources: 1 ok, 0 failed; pages: 12 "
        "fetched (3 had already), 10 new articles, 0 duplicates, 2 outside the window, 0 failed;"
        " events: 14; incidents: 2 new, 1 updated"
    )
    again = BackfillReport(reextract=True, since=SINCE, until=UNTIL, pages=0)
    assert _backfill_summary(again) == (
        "backfill 2020-01-15..2020-02-12: 0 stored articles re-extracted, 0 changed; events: 0;"
        " incidents: 0 new, 0 updated"
    )
