"""Each subscriber's mail: their filters, cadence, alerts and format, on a real store and SMTP.

No flows here: the store is filled from the test site's article pages and the mailing steps
(flows.mailings, flows.alerts) run as plain functions against aiosmtpd on 127.0.0.1.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from conftest import SITE, Received, SmtpSink

from extract.article import extract_page
from extract.events import extract_events
from extract.gazetteer import default_gazetteer
from extract.preferences import Preferences
from flows.alerts import send_alerts
from flows.mailings import deliver_pending, make_mailings
from flows.settings import Settings
from flows.store import ArticleIn, Store, open_store
from flows.tokens import read_token

ARTICLES = yaml.safe_load((SITE / "articles.yaml").read_text(encoding="utf-8"))
DAY_ONE = datetime(2021, 3, 4, 7, 0, tzinfo=UTC)
SUBSCRIBERS = {
    "all@example.com": Preferences(),
    "erbil@example.com": Preferences(sites=("erbil-air-base",), format="text"),
    "now@example.com": Preferences(cadence="immediate"),
    "weekly@example.com": Preferences(cadence="weekly"),
    "us@example.com": Preferences(min_severity="us_casualties"),
    "syria@example.com": Preferences(countries=("SY",)),
}


def add_article(store: Store, name: str) -> None:
    """Store one of the test site's articles with its events (what ingest would do)."""
    page = extract_page((SITE / "articles" / f"{name}.html").read_text(encoding="utf-8"))
    assert page is not None
    published = datetime.fromisoformat(str(ARTICLES[name]["published"]))
    url = f"https://testwire.example/{name}"
    events = extract_events(page.text, published, url, store.gazetteer)
    article = ArticleIn(url, None, ARTICLES[name]["title"], published, "feed", page.text)
    assert store.add_article("testwire", article, events) is not None


def text_of(received: Received) -> str:
    return received.message.get_body(preferencelist=("plain",)).get_content()


def by_recipient(mail: list[Received]) -> dict[str, list[Received]]:
    found: dict[str, list[Received]] = {}
    for received in mail:
        found.setdefault(received.recipient, []).append(received)
    return found


@pytest.fixture
def world(
    settings: Callable[..., Settings], smtp_server: SmtpSink
) -> tuple[Settings, Store, SmtpSink]:
    config = settings([], smtp=smtp_server, secret_key="test-secret")
    store = open_store(config.resolved_database_url, default_gazetteer())
    for address, prefs in SUBSCRIBERS.items():
        store.add_subscriber(address, prefs)
    return config, store, smtp_server


def test_each_subscriber_gets_what_matches_once_alerts_first(
    world: tuple[Settings, Store, SmtpSink],
) -> None:
    config, store, sink = world
    add_article(store, "erbil-rockets-2021-02-16")
    add_article(store, "asad-rockets-2021-03-03")

    # After the ingest: only the immediate subscriber is alerted, to both new attacks.
    alerts = send_alerts(store, config, now=DAY_ONE - timedelta(hours=1))
    assert (alerts.made, alerts.sent, alerts.failed) == (1, 1, [])
    [alert] = sink.received
    assert alert.recipient == "now@example.com"
    assert alert.message["Subject"] == "basewatch alert: 2 new attacks — 4 Mar 2021"
    assert alert.message["Message-ID"].startswith("<alert-d")
    # Nothing new since: a second ingest cycle alerts no one.
    assert send_alerts(store, config, now=DAY_ONE).made == 0

    assert make_mailings(store, "digest", DAY_ONE, digest_id=None) == 4
    done = deliver_pending(store, config)
    assert (done.sent, done.failed) == (4, [])
    first = by_recipient(sink.received[1:])
    # now@ was alerted to both and nothing changed; nothing happened in Syria; of the two, only
    # Erbil had a US casualty (a US service member among the nine wounded; at Ain al-Asad an
    # unreported figure is unknown, not a casualty).
    assert sorted(first) == [
        "all@example.com",
        "erbil@example.com",
        "us@example.com",
        "weekly@example.com",
    ]
    us_first = text_of(first["us@example.com"][0])
    assert "Erbil Air Base" in us_first and "Ain al-Asad" not in us_first
    assert first["all@example.com"][0].message["Subject"] == (
        "basewatch: 2 new attacks — 4 Mar 2021"
    )
    erbil = first["erbil@example.com"][0]
    assert erbil.message["Subject"] == "basewatch: 1 new attack — 4 Mar 2021"
    assert erbil.message.get_content_type() == "text/plain"  # format=text: no HTML part
    assert "Erbil Air Base" in text_of(erbil) and "Ain al-Asad" not in text_of(erbil)

    # The same day again: a daily digest at most once a day, so nothing more is made.
    assert make_mailings(store, "digest", DAY_ONE + timedelta(hours=3)) == 0

    # Next day: the revision (a US contractor died at Ain al-Asad).
    add_article(store, "asad-contractor-died-2021-03-04")
    assert send_alerts(store, config, now=DAY_ONE + timedelta(hours=20)).made == 0  # an update
    assert make_mailings(store, "digest", DAY_ONE + timedelta(days=1)) == 3
    deliver_pending(store, config)
    second = by_recipient(sink.received[5:])
    assert sorted(second) == ["all@example.com", "now@example.com", "us@example.com"]
    for address in ("all@example.com", "now@example.com"):
        text = text_of(second[address][0])
        assert "UPDATED (1)" in text and "NEW ATTACKS" not in text
        assert "killed: 0 → 1" in text
        assert second[address][0].message["Subject"] == "basewatch: 1 updated — 5 Mar 2021"
    # Ain al-Asad now has a US casualty: never shown to us@, so it is new to them.
    us_text = text_of(second["us@example.com"][0])
    assert "NEW ATTACKS (1)" in us_text and "Ain al-Asad" in us_text

    # A week after their first digest, the weekly subscriber gets the update.
    assert make_mailings(store, "digest", DAY_ONE + timedelta(days=6)) == 0
    assert make_mailings(store, "digest", DAY_ONE + timedelta(days=7)) == 1
    deliver_pending(store, config)
    [weekly] = sink.received[8:]
    assert weekly.recipient == "weekly@example.com"
    assert "UPDATED (1)" in text_of(weekly)

    counts = Counter(r.recipient for r in sink.received)
    assert counts == {
        "now@example.com": 2,
        "all@example.com": 2,
        "erbil@example.com": 1,
        "us@example.com": 2,
        "weekly@example.com": 2,
    }
    assert store.pending_deliveries() == []
    assert len({r.message["Message-ID"] for r in sink.received}) == len(sink.received)


def test_new_subscriber_is_not_sent_the_archive_as_new(
    world: tuple[Settings, Store, SmtpSink],
) -> None:
    config, store, sink = world
    add_article(store, "erbil-rockets-2021-02-16")
    store.add_subscriber("late@example.com")
    assert make_mailings(store, "digest", DAY_ONE) == 5  # all, erbil, now, us, weekly
    add_article(store, "asad-rockets-2021-03-03")
    assert make_mailings(store, "digest", DAY_ONE + timedelta(days=1)) == 3
    deliver_pending(store, config)
    late = [r for r in sink.received if r.recipient == "late@example.com"]
    assert len(late) == 1
    assert "Ain al-Asad" in text_of(late[0]) and "Erbil" not in text_of(late[0])


def test_mail_links_carry_signed_tokens_for_that_address(
    world: tuple[Settings, Store, SmtpSink],
) -> None:
    config, store, sink = world
    add_article(store, "erbil-rockets-2021-02-16")
    make_mailings(store, "digest", DAY_ONE)
    deliver_pending(store, config)
    [received] = [r for r in sink.received if r.recipient == "all@example.com"]
    header = received.message["List-Unsubscribe"]
    url = header.split(",")[0].strip("<> ")
    token = url.split("token=", 1)[1]
    assert url.startswith("http://127.0.0.1:8080/unsubscribe?token=")
    assert read_token(token, "unsubscribe", "test-secret", config.token_max_age) == (
        "all@example.com"
    )
    html = received.message.get_body(preferencelist=("html",)).get_content()
    assert 'href="http://127.0.0.1:8080/preferences?token=' in html
    assert f'href="{url}"' in html


def test_removed_subscriber_gets_nothing_owed(
    world: tuple[Settings, Store, SmtpSink], tmp_path: Path
) -> None:
    config, store, sink = world
    add_article(store, "erbil-rockets-2021-02-16")
    make_mailings(store, "digest", DAY_ONE)
    store.remove_subscriber("all@example.com")
    deliver_pending(store, config)
    assert "all@example.com" not in {r.recipient for r in sink.received}


def test_incidents_marked_as_told_are_not_new_to_anyone(
    world: tuple[Settings, Store, SmtpSink],
) -> None:
    from extract.digest import snapshot

    config, store, sink = world
    add_article(store, "asad-rockets-2021-03-03")
    store.mark_seen_by_all([(i.id, snapshot(i)) for i in store.incidents()])  # a quiet backfill
    assert send_alerts(store, config, now=DAY_ONE).made == 0
    assert make_mailings(store, "digest", DAY_ONE) == 0
    add_article(store, "asad-contractor-died-2021-03-04")  # a later update is still told
    # weekly@ too: they have had no digest yet, so one is due.
    assert make_mailings(store, "digest", DAY_ONE + timedelta(days=1)) == 4
    deliver_pending(store, config)
    assert {r.recipient for r in sink.received} == {
        "all@example.com",
        "now@example.com",
        "us@example.com",
        "weekly@example.com",
    }
    assert "UPDATED (1)" in text_of(
        next(r for r in sink.received if r.recipient == "all@example.com")
    )
