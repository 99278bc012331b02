"""The store and the pipeline on a real PostgreSQL server (BASEWATCH_TEST_POSTGRES_URL).

.ci/run starts a throwaway server and sets the variable; each test gets its own new database.
Without the variable these tests are skipped (and fail when CI is set).
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import DEFAULT_FEED, Site, SmtpSink
from sqlalchemy import create_engine, inspect, select, text, update

from extract.digest import select_digest, snapshot
from extract.gazetteer import default_gazetteer
from extract.preferences import Preferences
from flows.digest import digest
from flows.ingest import ingest
from flows.mailings import make_mailings
from flows.settings import Settings
from flows.store import (
    SENDING_LEASE,
    ArticleIn,
    DeliveryRow,
    DigestRow,
    Store,
    SubscriberRow,
    open_store,
)
from reports.render import render_digest

SUBSCRIBERS = ("ana@example.com", "bo@example.org")
ROOT = Path(__file__).resolve().parents[1]
TABLES = {
    "sources",
    "articles",
    "events",
    "incidents",
    "digests",
    "digest_items",
    "subscribers",
    "deliveries",
    "alembic_version",
}


def _wait_until(condition: Callable[[], bool], what: str, limit: float = 60.0) -> None:
    """Poll until condition() holds; fail naming ``what`` after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def _head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from flows.store import MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(config).get_current_head()


def _settings_on(settings: Callable[..., Settings], url: str, feed: str, **kwargs: Any) -> Settings:
    return settings([{"name": "testwire", "url": feed}], database_url=url, **kwargs)


def _subscribed(url: str) -> Store:
    store = open_store(url, default_gazetteer())
    for address in SUBSCRIBERS:
        store.add_subscriber(address)
    return store


# -- (a) migrations ------------------------------------------------------------------------------


def test_migrations_build_the_schema_on_an_empty_database(postgres_url: str) -> None:
    store = open_store(postgres_url, default_gazetteer())
    assert store.engine.dialect.name == "postgresql"
    assert TABLES <= set(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == _head()
    store.add_subscriber("ana@example.com")

    again = open_store(postgres_url, default_gazetteer())  # already at head: a no-op
    assert again.subscribers() == ["ana@example.com"]
    with again.engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM alembic_version")) == 1


def test_runs_opening_a_fresh_database_at_once_migrate_it_once(postgres_url: str) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def open_it() -> None:
        start.wait()
        try:
            open_store(postgres_url, default_gazetteer())
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert errors == []
    assert open_store(postgres_url, default_gazetteer()).subscribers() == []


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A new, empty database on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'basewatch.db'}"
    return request.getfixturevalue("postgres_url")


def test_upgrade_from_the_first_schema_keeps_pending_deliveries(any_database: str) -> None:
    from alembic import command
    from alembic.config import Config

    from flows.store import MIGRATIONS

    engine = create_engine(any_database)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # A database left by the first release, with a digest still owed to a subscriber.
    postgres = engine.dialect.name == "postgresql"
    stamp = "'2021-03-04 00:00:00+00'" if postgres else "'2021-03-04 00:00:00.000000'"
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        for statement in (
            (
                "INSERT INTO subscribers (id, email, active, created) "
                f"VALUES (1, 'ana@example.com', true, {stamp})"
            ),
            (
                "INSERT INTO digests (id, created, subject, text, html) "
                f"VALUES (1, {stamp}, '', '', '')"
            ),
            (
                "INSERT INTO deliveries (digest_id, subscriber_id, status, message_id) "
                "VALUES (1, 1, 'pending', '<m@basewatch>')"
            ),
        ):
            connection.execute(text(statement))
    engine.dispose()

    store = open_store(any_database, default_gazetteer())  # upgrades to head
    with store.engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == _head()
    [pending] = store.pending_deliveries()
    assert (pending.email, pending.message_id) == ("ana@example.com", "<m@basewatch>")
    assert store.claim_delivery(pending.delivery_id) is True
    # A subscriber from before preferences existed has the defaults (everything, daily).
    assert store.subscriber_preferences("ana@example.com") == Preferences()


# -- (c) publication times -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "published",
    [
        "2020-06-14T12:00:00+03:00",  # Baghdad: a sidecar keeps the article's own time
        "2020-06-14T09:00:00+00:00",
        "2021-02-15T23:30:00-03:30",  # Newfoundland: the UTC date is the next day
        "2021-02-16T02:00:00+05:45",  # Kathmandu: the UTC date is the day before
    ],
)
def test_published_comes_back_as_the_same_instant_with_its_offset(
    postgres_url: str, published: str
) -> None:
    when = datetime.fromisoformat(published)
    store = open_store(postgres_url, default_gazetteer())
    with store.engine.begin() as connection:
        # A server in neither UTC nor the article's zone: nothing may depend on it.
        database = store.engine.url.database
        connection.execute(
            text(f"ALTER DATABASE \"{database}\" SET timezone TO 'America/Los_Angeles'")
        )
    store.engine.dispose()
    article = ArticleIn(
        url="https://a.example/1",
        guid=None,
        title="t",
        published=when,
        published_from="sidecar",
        text="Some text.",
    )
    store.add_article("wire", article, [])

    [(_, _, stored)] = list(store.iter_articles())
    assert stored == when  # the same instant
    assert stored.utcoffset() == when.utcoffset()  # in the article's own timezone
    with store.engine.connect() as connection:
        assert connection.scalar(text("SHOW timezone")) == "America/Los_Angeles"
        column = connection.scalar(
            text(
                "SELECT data_type FROM information_schema.columns "
                "WHERE table_name = 'articles' AND column_name = 'published'"
            )
        )
        utc = connection.scalar(
            text(
                "SELECT to_char(published AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI') FROM articles"
            )
        )
    assert column == "timestamp with time zone"
    assert utc == when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


# -- (b) the pipeline ----------------------------------------------------------------------------


def test_pipeline_mails_each_subscriber_once_and_a_second_digest_nothing(
    postgres_url: str,
    site: Site,
    settings: Callable[..., Settings],
    smtp_factory: Callable[[], SmtpSink],
) -> None:
    sink = smtp_factory()
    feed = site.add_feed([site.article_item(name) for name in DEFAULT_FEED])
    config = _settings_on(settings, postgres_url, feed, smtp=sink)
    store = _subscribed(postgres_url)

    ingested = ingest(config)
    assert (ingested.articles_new, len(ingested.incidents_new)) == (2, 2)
    first = digest(config)
    assert (first.digest_id, first.new, first.updated, first.sent, first.pending) == (1, 2, 0, 2, 0)
    assert Counter(r.recipient for r in sink.received) == {a: 1 for a in SUBSCRIBERS}
    assert len({r.message["Message-ID"] for r in sink.received}) == len(SUBSCRIBERS)
    assert first.path is not None and first.path.exists()

    assert ingest(config).articles_new == 0
    second = digest(config)
    assert (second.digest_id, second.sent, second.pending) == (None, 0, 0)
    assert len(sink.received) == len(SUBSCRIBERS)
    counts = store.counts()
    assert (counts["articles"], counts["incidents"], counts["digests"]) == (2, 2, 1)
    assert [i.summary.site.id for i in store.incidents()] == ["erbil-air-base", "ain-al-asad"]


# -- (d) concurrent runs -------------------------------------------------------------------------


def _waiting_on_advisory_lock(admin: Any, database: str) -> bool:
    with admin.connect() as connection:
        return bool(
            connection.scalar(
                text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                    "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = :db"
                ),
                {"db": database},
            )
        )


def test_two_runs_creating_a_digest_at_once_create_one(
    postgres_url: str,
    postgres_admin: Any,
    site: Site,
    settings: Callable[..., Settings],
) -> None:
    feed = site.add_feed([site.article_item(name) for name in DEFAULT_FEED])
    config = _settings_on(settings, postgres_url, feed)
    store = _subscribed(postgres_url)
    ingest(config)
    incidents, seen = store.digest_candidates()
    selected = select_digest(incidents, seen, datetime.now(UTC))
    items = [(i.incident.id, i.kind, snapshot(i.incident)) for i in selected.items]
    database = store.engine.url.database
    rendering = threading.Event()

    def render_once_the_other_waits(digest_id: int) -> Any:
        # Inside the first transaction: hold it until the second run is blocked on the lock.
        rendering.set()
        _wait_until(
            lambda: _waiting_on_advisory_lock(postgres_admin, database),
            "the second run to wait for the digest lock",
        )
        return render_digest(selected, digest_id)

    results: dict[str, int | None] = {}

    now = datetime.now(UTC)

    def first() -> None:
        results["first"] = store.create_digest(items, render_once_the_other_waits)
        make_mailings(store, "digest", now, results["first"])

    def second() -> None:
        rendering.wait(60)
        results["second"] = store.create_digest(
            items, lambda digest_id: render_digest(selected, digest_id)
        )
        make_mailings(store, "digest", now, results["second"])

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert results == {"first": 1, "second": None}
    assert store.counts()["digests"] == 1
    assert sorted(p.email for p in store.pending_deliveries()) == sorted(SUBSCRIBERS)


class HoldingSink(SmtpSink):
    """Accepts mail, but holds the first DATA for chosen recipients until released."""

    def __init__(self, hold: set[str]) -> None:
        super().__init__()
        self.hold = set(hold)
        self.holding = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        held = self.hold & set(envelope.rcpt_tos)
        if held:
            self.hold -= held
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 60)
        return await super().handle_DATA(server, session, envelope)


def test_two_runs_sending_at_once_send_each_delivery_once(
    any_database: str,
    site: Site,
    settings: Callable[..., Settings],
) -> None:
    url = any_database  # the claim is the same UPDATE on SQLite
    sink = HoldingSink(hold={SUBSCRIBERS[0]}).start()
    try:
        feed = site.add_feed([site.article_item(name) for name in DEFAULT_FEED])
        # A long SMTP timeout: the first run's held message must not time out.
        config = _settings_on(settings, url, feed, smtp=sink, smtp_timeout=60.0)
        _subscribed(url)
        ingest(config)
        assert digest(config, send=False).digest_id == 1  # two deliveries pending

        reports: dict[str, Any] = {}
        first = threading.Thread(target=lambda: reports.update(first=digest(config)))
        first.start()
        # The first run is sending to ana, held at DATA: a second run starts now.
        assert sink.holding.wait(60)
        reports["second"] = digest(config)
        sink.release.set()
        first.join(120)
    finally:
        sink.release.set()
        sink.stop()

    assert Counter(r.recipient for r in sink.received) == {a: 1 for a in SUBSCRIBERS}
    assert (reports["first"].sent, reports["second"].sent) == (1, 1)
    assert reports["first"].pending == 0


def test_two_digest_flows_at_the_same_moment_mail_each_subscriber_once(
    postgres_url: str,
    site: Site,
    settings: Callable[..., Settings],
    smtp_factory: Callable[[], SmtpSink],
) -> None:
    sink = smtp_factory()
    feed = site.add_feed([site.article_item(name) for name in DEFAULT_FEED])
    config = _settings_on(settings, postgres_url, feed, smtp=sink)
    store = _subscribed(postgres_url)
    ingest(config)

    start = threading.Barrier(2)
    reports: list[Any] = []

    def run_digest() -> None:
        start.wait()
        reports.append(digest(config))

    threads = [threading.Thread(target=run_digest) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert sorted(r.digest_id is None for r in reports) == [False, True]
    assert sum(r.sent for r in reports) == len(SUBSCRIBERS)
    assert store.counts()["digests"] == 1
    assert Counter(r.recipient for r in sink.received) == {a: 1 for a in SUBSCRIBERS}


def test_a_claim_older_than_the_lease_is_taken_over(any_database: str) -> None:
    store = _subscribed(any_database)
    with store.session() as session, session.begin():
        session.add(DigestRow(id=1, created=datetime.now(UTC), subject="", text="", html=""))
        session.flush()
        for subscriber in session.scalars(select(SubscriberRow)):
            session.add(DeliveryRow(digest_id=1, subscriber_id=subscriber.id, message_id="<m>"))
    first, _ = store.pending_deliveries()
    assert store.claim_delivery(first.delivery_id) is True
    assert store.claim_delivery(first.delivery_id) is False  # a live run has it
    with store.engine.begin() as connection:
        connection.execute(
            update(DeliveryRow)
            .where(DeliveryRow.id == first.delivery_id)
            .values(claimed=datetime.now(UTC) - SENDING_LEASE - timedelta(seconds=1))
        )
    assert store.claim_delivery(first.delivery_id) is True  # its run died long ago
    store.mark_delivery(first.delivery_id)
    assert store.claim_delivery(first.delivery_id) is False  # sent


# -- a run killed mid-send ----------------------------------------------------------------------

CLAIM_AND_HANG = """
import sys, time
from extract.gazetteer import default_gazetteer
from flows.store import open_store
store = open_store(sys.argv[1], default_gazetteer())
with store.sending():
    delivery = store.pending_deliveries()[0]
    assert store.claim_delivery(delivery.delivery_id)
    print(delivery.email, flush=True)
    time.sleep(120)  # killed here, as if the SMTP server never answered
"""


def test_a_killed_senders_claim_is_retried_by_the_next_run_at_once(
    postgres_url: str,
    site: Site,
    settings: Callable[..., Settings],
    smtp_factory: Callable[[], SmtpSink],
) -> None:
    sink = smtp_factory()
    feed = site.add_feed([site.article_item(name) for name in DEFAULT_FEED])
    config = _settings_on(settings, postgres_url, feed, smtp=sink)
    store = _subscribed(postgres_url)
    ingest(config)
    assert digest(config, send=False).digest_id == 1

    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_API", "BASEWATCH_"))}
    process = subprocess.Popen(
        [sys.executable, "-c", CLAIM_AND_HANG, postgres_url],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        claimed = process.stdout.readline().strip()
        assert claimed == SUBSCRIBERS[0], process.stderr.read()
        # While it lives, its claim is respected: another run sends only the rest.
        live = digest(config)
        assert (live.sent, live.pending) == (1, 1)
        assert [r.recipient for r in sink.received] == [SUBSCRIBERS[1]]
    finally:
        process.kill()
        process.wait()

    after = digest(config)
    assert (after.digest_id, after.sent, after.pending) == (None, 1, 0)
    assert Counter(r.recipient for r in sink.received) == {a: 1 for a in SUBSCRIBERS}
    assert store.pending_deliveries() == []
