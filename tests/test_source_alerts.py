"""Ops hear once when a source keeps failing, and once when it works again."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Site, SmtpSink

from flows.ingest import ingest
from flows.settings import Settings

OPS = "ops@example.com"


def test_one_alert_per_run_of_failures_and_one_recovery_note(
    site: Site, settings: Callable[..., Settings], smtp_server: SmtpSink
) -> None:
    feed = site.add_feed([site.article_item("asad-rockets-2021-03-03")])
    key = feed.rsplit("/", 1)[1].removesuffix(".xml")
    items = site.feeds.pop(key)  # the feed is down (404) for now
    config = settings(
        [{"name": "flaky", "url": feed}], smtp=smtp_server, ops_email=OPS, source_alert_hours=0
    )

    ingest(config)
    ingest(config)  # still failing: no second alert
    to_ops = smtp_server.for_recipient(OPS)
    assert len(to_ops) == 1
    assert "flaky" in to_ops[0].message["Subject"] and "failing" in to_ops[0].message["Subject"]

    site.feeds[key] = items  # back up
    report = ingest(config)
    assert report.sources_ok == ["flaky"]
    ingest(config)  # healthy again: nothing more
    subjects = [r.message["Subject"] for r in smtp_server.for_recipient(OPS)]
    assert len(subjects) == 2
    assert "works again" in subjects[1]


def test_no_alert_before_the_configured_period(
    site: Site, settings: Callable[..., Settings], smtp_server: SmtpSink
) -> None:
    config = settings(
        [{"name": "down", "url": site.url("/status/404")}],
        smtp=smtp_server,
        ops_email=OPS,
        source_alert_hours=6,
    )
    ingest(config)
    ingest(config)
    assert smtp_server.for_recipient(OPS) == []
