"""flows.store on a real SQLite file: what goes in comes back out."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from extract.gazetteer import default_gazetteer
from flows.store import ArticleIn, Store, open_store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return open_store(f"sqlite:///{tmp_path / 'basewatch.db'}", default_gazetteer())


def _article(url: str, published: datetime, text: str) -> ArticleIn:
    return ArticleIn(
        url=url, guid=None, title="t", published=published, published_from="sidecar", text=text
    )


@pytest.mark.parametrize(
    "published",
    [
        datetime.fromisoformat("2020-06-14T12:00:00+03:00"),  # a sidecar keeps Baghdad time
        datetime.fromisoformat("2020-06-14T09:00:00+00:00"),
    ],
)
def test_published_comes_back_as_the_same_instant(store: Store, published: datetime) -> None:
    store.add_article("wire", _article("https://a.example/1", published, "Some text."), [])
    [(_, _, stored)] = list(store.iter_articles())
    assert stored == published  # aware datetimes compare as instants
    assert stored.tzinfo is not None


def test_reports_are_ordered_by_real_publication_time(store: Store) -> None:
    # 12:00 in Baghdad (09:00 UTC) is earlier than 10:00 UTC.
    baghdad = datetime.fromisoformat("2020-06-14T12:00:00+03:00")
    utc = datetime(2020, 6, 14, 10, 0, tzinfo=UTC)
    store.add_article("a", _article("https://a.example/1", baghdad, "First text."), [])
    store.add_article("b", _article("https://b.example/2", utc, "Second text."), [])
    stored = sorted(store.iter_articles(), key=lambda row: row[2])
    assert [url for url, _, _ in stored] == ["https://a.example/1", "https://b.example/2"]


def test_same_text_under_another_url_is_stored_once(store: Store) -> None:
    when = datetime(2020, 6, 14, tzinfo=UTC)
    assert store.add_article("a", _article("https://a.example/1", when, "Same  Text."), [])
    assert store.add_article("b", _article("https://b.example/9", when, "same text."), []) is None
    assert store.counts()["articles"] == 1


def test_subscribers_are_unique_and_can_come_back(store: Store) -> None:
    assert store.add_subscriber("ana@example.com") is True
    assert store.add_subscriber("ana@example.com") is False
    assert store.remove_subscriber("ana@example.com") is True
    assert store.subscribers() == []
    assert store.add_subscriber("ana@example.com") is True
    assert store.subscribers() == ["ana@example.com"]


def test_two_digests_created_at_once_on_sqlite_make_one(store: Store) -> None:
    import threading
    import time

    from extract.digest import select_digest, snapshot
    from extract.events import extract_events
    from flows.mailings import make_mailings
    from reports.render import render_digest

    published = datetime.fromisoformat("2020-06-14T12:00:00+03:00")
    text = Path(__file__).parents[1].joinpath("seeds/000_ac9f42923b428470.txt").read_text()
    article = _article("https://example.org/seed", published, text)
    store.add_subscriber("one@example.com")  # before the attack is reported: it is new to them
    store.add_article("seeds", article, extract_events(text, published))
    incidents, seen = store.digest_candidates()
    selected = select_digest(incidents, seen, datetime.now(UTC))
    items = [(i.incident.id, i.kind, snapshot(i.incident)) for i in selected.items]
    second_started = threading.Event()
    results: dict[str, int | None] = {}

    def slow_render(digest_id: int):
        # Inside the first transaction: give the second run time to arrive and wait.
        second_started.wait(30)
        time.sleep(0.3)
        return render_digest(selected, digest_id)

    now = datetime.now(UTC)

    def first() -> None:
        results["first"] = store.create_digest(items, slow_render)
        make_mailings(store, "digest", now, results["first"])

    def second() -> None:
        second_started.set()
        results["second"] = store.create_digest(
            items, lambda digest_id: render_digest(selected, digest_id)
        )
        make_mailings(store, "digest", now, results["second"])

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    threads[0].start()
    time.sleep(0.1)  # let the first run open its transaction
    threads[1].start()
    for thread in threads:
        thread.join(60)
    assert sorted(results.values(), key=str) == [1, None]
    assert store.counts()["digests"] == 1
    assert [p.email for p in store.pending_deliveries()] == ["one@example.com"]
