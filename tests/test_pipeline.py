"""End to end: Prefect flows on the local HTTP site, mail through aiosmtpd, SQLite in tmp."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DATA, DEFAULT_FEED, Received, Site, SmtpSink

from extract.gazetteer import default_gazetteer
from flows.digest import DigestReport, digest
from flows.ingest import IngestReport, ingest
from flows.run import run
from flows.settings import Settings
from flows.store import Store, open_store

SUBSCRIBERS = ("ana@example.com", "bo@example.org")
REVISION = "asad-contractor-died-2021-03-04"
FIRST_RUN = datetime(2021, 3, 4, 7, 0, tzinfo=UTC)


def text_part(received: Received) -> str:
    body = received.message.get_body(preferencelist=("plain",))
    assert body is not None
    return body.get_content().replace("\r\n", "\n")


def sections(text: str) -> dict[str, str]:
    """Return the digest text's sections by heading: "NEW ATTACKS" and "UPDATED"."""
    found: dict[str, str] = {}
    marks = [
        (m.start(), m.group(1))
        for m in re.finditer(r"^(NEW ATTACKS|UPDATED) \(\d+\)$", text, re.MULTILINE)
    ]
    for (start, name), (end, _) in zip(marks, marks[1:] + [(len(text), "")]):
        found[name] = text[start:end]
    return found


def store_of(settings: Settings) -> Store:
    return open_store(settings.resolved_database_url, default_gazetteer())


# -- run, run again, then a revision -------------------------------------------------------------


@dataclass
class Mailing:
    """Three runs over one feed: first, unchanged, then the feed gains a revising article."""

    settings: Settings
    feed_path: str
    reports: list[tuple[IngestReport, DigestReport]]
    mail: list[list[Received]]  # what the SMTP server got in each run


@pytest.fixture(scope="module")
def mailing(
    site: Site,
    smtp_factory: Callable[[], SmtpSink],
    settings_builder: Callable[..., Settings],
    tmp_path_factory: pytest.TempPathFactory,
) -> Mailing:
    sink = smtp_factory()
    items = [site.article_item(name) for name in DEFAULT_FEED]
    feed = site.add_feed(items)
    settings = settings_builder(
        tmp_path_factory.mktemp("mailing"), [{"name": "testwire", "url": feed}], smtp=sink
    )
    store = store_of(settings)
    for address in SUBSCRIBERS:
        store.add_subscriber(address)
    reports, mail = [], []
    for stage in range(3):
        if stage == 2:
            items.append(site.article_item(REVISION))  # the feed gains the revising article
        before = len(sink.received)
        # One run a day: subscribers get at most one digest per day (their cadence).
        reports.append(run(settings, now=FIRST_RUN + timedelta(days=stage)))
        mail.append(sink.received[before:])
    return Mailing(settings, feed.removeprefix(site.base), reports, mail)


def test_first_run_mails_each_subscriber_exactly_one_multipart_message(
    mailing: Mailing,
) -> None:
    first = mailing.mail[0]
    assert Counter(r.recipient for r in first) == {address: 1 for address in SUBSCRIBERS}
    for received in first:
        message = received.message
        assert message.get_content_type() == "multipart/alternative"
        text, related = message.iter_parts()
        assert (text.get_content_type(), related.get_content_type()) == (
            "text/plain",
            "multipart/related",
        )
        html, chart = related.iter_parts()
        assert (html.get_content_type(), chart.get_content_type()) == ("text/html", "image/png")
        assert chart["Content-ID"] == "<chart@basewatch>"
        assert 'src="cid:chart@basewatch"' in html.get_content()
        assert chart.get_content().startswith(b"\x89PNG")
        assert message["To"] == received.recipient
        assert message["Subject"] == "basewatch: 2 new attacks — 4 Mar 2021"
        unsubscribe = message["List-Unsubscribe"]
        assert unsubscribe.startswith("<http://127.0.0.1:8080/unsubscribe?token=")
        assert unsubscribe.endswith(", <mailto:basewatch@localhost?subject=unsubscribe>")
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert len({r.message["Message-ID"] for r in first}) == len(SUBSCRIBERS)


def test_first_digest_lists_both_attacks_as_new(mailing: Mailing) -> None:
    ingested, digested = mailing.reports[0]
    assert (ingested.articles_new, len(ingested.incidents_new)) == (2, 2)
    assert (digested.new, digested.updated, digested.sent, digested.pending) == (2, 0, 2, 0)
    parts = sections(text_part(mailing.mail[0][0]))
    assert list(parts) == ["NEW ATTACKS"]
    assert "Ain al-Asad Air Base" in parts["NEW ATTACKS"]
    assert "Erbil Air Base" in parts["NEW ATTACKS"]
    # DOMAIN.md: newest attacks first.
    assert parts["NEW ATTACKS"].index("3 Mar 2021") < parts["NEW ATTACKS"].index("15 Feb 2021")


def test_second_run_sends_nothing(mailing: Mailing, site: Site) -> None:
    ingested, digested = mailing.reports[1]
    assert mailing.mail[1] == []
    assert (ingested.articles_new, digested.digest_id, digested.sent) == (0, None, 0)
    # The unchanged feed was asked for with its ETag and answered 304.
    polls = site.requests_to(mailing.feed_path)
    assert polls[1].headers.get("If-None-Match") and polls[1].status == 304


def test_revised_casualties_are_an_update_not_a_new_attack(mailing: Mailing) -> None:
    ingested, digested = mailing.reports[2]
    assert ingested.articles_new == 1
    assert ingested.incidents_new == set() and len(ingested.incidents_updated) == 1
    assert (digested.new, digested.updated) == (0, 1)
    third = mailing.mail[2]
    assert Counter(r.recipient for r in third) == {address: 1 for address in SUBSCRIBERS}
    parts = sections(text_part(third[0]))
    assert list(parts) == ["UPDATED"]
    assert "Ain al-Asad Air Base" in parts["UPDATED"]
    assert "Erbil" not in parts["UPDATED"]
    assert "killed: 0 → 1" in parts["UPDATED"]
    assert third[0].message["Subject"].startswith("basewatch: 1 updated")


def test_nothing_is_left_pending(mailing: Mailing) -> None:
    store = store_of(mailing.settings)
    assert store.pending_deliveries() == []
    assert store.counts()["digests"] == 2


# -- delivery resumes after a failure ----------------------------------------------------------


def test_failed_deliveries_are_resent_once_and_only_to_those_pending(
    site: Site, settings: Callable[..., Settings], smtp_factory: Callable[[], SmtpSink]
) -> None:
    addresses = ["one@example.com", "two@example.com", "three@example.com"]
    down = smtp_factory()
    down.stop()  # a mail server that is not running
    feed = site.add_feed([site.article_item("asad-rockets-2021-03-03")])
    config = settings([{"name": "testwire", "url": feed}], smtp=down)
    store = store_of(config)
    for address in addresses:
        store.add_subscriber(address)
    ingest(config)

    failed = digest(config)
    assert failed.digest_id == 1
    # The server cannot be reached: the batch stops at the first, the rest wait for next time.
    assert (failed.sent, failed.failed, failed.pending) == (0, ["one@example.com"], 3)
    assert failed.stopped == "mail server unreachable; 2 left for the next run"

    # The server is back but refuses one mailbox: the other two are served now.
    partly = smtp_factory()
    partly.refuse = {"two@example.com"}
    resumed = digest(config.model_copy(update={"smtp_port": partly.port}))
    assert resumed.digest_id is None  # no new digest: only what is owed is sent
    assert (resumed.sent, resumed.failed, resumed.pending) == (2, ["two@example.com"], 1)
    assert [p.email for p in store.pending_deliveries()] == ["two@example.com"]

    partly.refuse.clear()
    last = digest(config.model_copy(update={"smtp_port": partly.port}))
    assert (last.sent, last.failed, last.pending) == (1, [], 0)

    counts = Counter(r.recipient for r in partly.received)
    assert counts == {address: 1 for address in addresses}
    assert down.received == []
    for received in partly.received:
        assert received.message["Message-ID"].startswith("<digest-1-")


# -- the seed after an earlier article on the March attack --------------------------------------


def test_seed_reports_only_the_june_taji_attack_as_new(
    settings: Callable[..., Settings], seed_dir: Path
) -> None:
    archive = {"name": "testwire-archive", "path": str(DATA / "taji-2020-03")}
    first = settings([archive])
    ingest(first)
    before = digest(first)
    assert (before.new, before.updated) == (1, 0)
    first_text = before.path.with_suffix(".txt").read_text(encoding="utf-8")
    assert "11 Mar 2020 — Camp Taji" in first_text

    both = settings([archive, {"name": "medialine", "path": str(seed_dir)}])
    ingested = ingest(both)
    assert ingested.articles_new == 1
    assert len(ingested.incidents_new) == 1  # recalled K-1 and March attacks link to stored ones
    after = digest(both)
    assert (after.new, after.updated) == (1, 0)
    text = after.path.with_suffix(".txt").read_text(encoding="utf-8")
    assert list(sections(text)) == ["NEW ATTACKS"]
    assert "13 Jun 2020 — Camp Taji" in text
    for recalled in ("11 Mar 2020", "Mar 2020 —", "K-1", "Dec 2019", "December 2019"):
        assert recalled not in text

    incidents = store_of(both).incidents()
    assert sorted((i.summary.site.id, i.summary.date_start) for i in incidents) == [
        ("camp-taji", date(2020, 3, 11)),
        ("camp-taji", date(2020, 6, 13)),
        ("k1-air-base", date(2019, 12, 1)),
    ]


# -- publication time keeps the article's timezone ----------------------------------------------

ERBIL_STORY = (
    "<p>Rockets hit Erbil International Airport, which hosts troops of the US-led coalition, "
    "yesterday evening, killing a foreign civilian contractor.</p>"
    "<p>Nine other people were wounded, among them a US service member, the coalition said.</p>"
    "<p>A group calling itself Saraya Awliya al-Dam claimed responsibility for the attack in a "
    "statement posted on social media, and Kurdish officials said the rockets had been fired "
    "from south of the city.</p>"
    "<p>It was the first rocket attack on the airport in several months, and it came as the new "
    "US administration was reviewing its policy towards Iran and the militias it backs.</p>"
)


def test_feed_time_keeps_the_articles_timezone(
    site: Site, settings: Callable[..., Settings], tmp_path: Path
) -> None:
    # 02:00 on Tuesday in Erbil is still Monday in UTC; "yesterday evening" is Monday 15 Feb.
    published = datetime.fromisoformat("2021-02-16T02:00:00+03:00")
    item: dict[str, Any] = {
        "title": "Rockets hit Erbil airport",
        "guid": "tz-1",
        "link": "https://testwire.example/world/erbil-rockets",
        "published": published,
        "content": ERBIL_STORY,
    }
    # No date in the link or the content: only the feed says when the article appeared.
    (tmp_path / "feed.xml").write_bytes(site.feed_xml([item]))
    config = settings([{"name": "wire-file", "path": "feed.xml"}])
    report = ingest(config)
    assert report.articles_new == 1
    [incident] = store_of(config).incidents()
    assert incident.summary.site.id == "erbil-air-base"
    assert incident.summary.date_start == date(2021, 2, 15)


def test_digest_files_lost_in_a_crash_are_written_by_the_next_run(
    settings: Callable[..., Settings], seed_dir: Path
) -> None:
    config = settings([{"name": "medialine", "path": str(seed_dir)}])
    ingest(config)
    first = digest(config)
    for path in first.path.parent.glob("digest-0001.*"):
        path.unlink()  # as if the run died right after storing the digest
    again = digest(config)
    assert again.digest_id is None  # nothing new: no second digest
    assert {p.suffix for p in first.path.parent.glob("digest-0001.*")} == {".html", ".txt", ".eml"}
