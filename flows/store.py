"""The database: SQLAlchemy 2 models, Alembic migrations applied on first use, and queries.

Rows stay in this module; callers get domain values (extract.merge.Incident, plain dicts).
Tables: sources (fetch state, health), articles, events (per article, with evidence; each event
row is also the incident <-> source link), incidents, digests, digest_items (what a global
digest edition showed, with a snapshot for "what changed"), subscribers (with preferences),
deliveries (each digest or alert owed to a subscriber: the log that makes sending idempotent),
delivery_items (what one delivery shows) and subscriber_seen (per subscriber and incident, the
snapshot they were last shown: "new" and "updated" are per subscriber).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    exists,
    func,
    select,
    text,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from extract.errors import NotSubscribedError, StoreError
from extract.gazetteer import Gazetteer
from extract.merge import Incident, Report, SourceRef, match_incident
from extract.model import Event, event_from_dict
from extract.preferences import Preferences

__all__ = [
    "ArticleIn",
    "BatchStored",
    "DigestInfo",
    "IncidentFilter",
    "MailingItem",
    "PageIn",
    "PageOutcome",
    "PendingDelivery",
    "PendingPage",
    "Store",
    "StoredArticle",
    "SubscriberState",
    "open_store",
    "text_hash",
]

try:
    import fcntl
except ImportError:  # Windows: no flock; dead runs' claims then wait out SENDING_LEASE
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
# PostgreSQL advisory lock keys: one migrator, one digest writer, and the delivery runs.
MIGRATE_LOCK, DIGEST_LOCK, SENDERS_LOCK = 740_220, 740_221, 740_222
# A live run holds a claim for one SMTP exchange (seconds): older claims are from dead runs.
SENDING_LEASE = timedelta(minutes=15)
# Session.info key of a transaction's incident reports (incident id -> reports, event order).
REPORTS_CACHE = "basewatch.incident_reports"


def utcnow() -> datetime:
    """Return the current UTC time (aware)."""
    return datetime.now(UTC)


def _offset_minutes(when: datetime) -> int:
    offset = when.utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


def _local(row: ArticleRow) -> datetime:
    """Return the article's publication time in its own timezone."""
    return row.published.astimezone(timezone(timedelta(minutes=row.published_offset or 0)))


def text_hash(text: str) -> str:
    """Return a hash of the article text with whitespace and case folded (content de-dup)."""
    folded = " ".join(text.split()).lower()
    return hashlib.sha256(folded.encode("utf-8")).hexdigest()


class UtcDateTime(TypeDecorator):
    """Datetimes stored as UTC on every backend and read back aware (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict: JSON,
        list: JSON,
    }


class SourceRow(Base):
    __tablename__ = "sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    url: Mapped[str] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_success: Mapped[datetime | None]
    last_failure: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    failing_since: Mapped[datetime | None]
    alerted: Mapped[datetime | None]


class ArticleRow(Base):
    __tablename__ = "articles"
    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(Text, unique=True)
    guid: Mapped[str | None] = mapped_column(Text, index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[datetime]
    # Minutes east of UTC in the article's own timezone: relative dates resolve in it.
    published_offset: Mapped[int] = mapped_column(Integer, default=0)
    published_from: Mapped[str] = mapped_column(String(20))
    fetched: Mapped[datetime]
    text_hash: Mapped[str] = mapped_column(String(64), unique=True)
    text: Mapped[str] = mapped_column(Text)


class IncidentRow(Base):
    __tablename__ = "incidents"
    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[str | None] = mapped_column(String(100), index=True)
    date_start: Mapped[date] = mapped_column(Date, index=True)
    date_end: Mapped[date] = mapped_column(Date)
    newsworthy: Mapped[bool] = mapped_column(Boolean, default=False)
    summary: Mapped[dict] = mapped_column(JSON)
    first_seen: Mapped[datetime]
    updated: Mapped[datetime]


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    site_id: Mapped[str | None] = mapped_column(String(100))
    date_start: Mapped[date] = mapped_column(Date)
    date_end: Mapped[date] = mapped_column(Date)
    recent: Mapped[bool] = mapped_column(Boolean)
    data: Mapped[dict] = mapped_column(JSON)


class DigestRow(Base):
    __tablename__ = "digests"
    id: Mapped[int] = mapped_column(primary_key=True)
    created: Mapped[datetime]
    subject: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str] = mapped_column(Text)
    # A backfill without --notify records what it found as told, without mailing it.
    quiet: Mapped[bool] = mapped_column(Boolean, default=False)


class DigestItemRow(Base):
    __tablename__ = "digest_items"
    __table_args__ = (UniqueConstraint("digest_id", "incident_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"), index=True)
    kind: Mapped[str] = mapped_column(String(10))
    snapshot: Mapped[dict] = mapped_column(JSON)


class SubscriberRow(Base):
    __tablename__ = "subscribers"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created: Mapped[datetime]
    # extract.preferences.Preferences.to_dict(); NULL is the defaults.
    preferences: Mapped[dict | None] = mapped_column(JSON)
    since: Mapped[datetime | None]
    last_digest: Mapped[datetime | None]


class DeliveryRow(Base):
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("digest_id", "subscriber_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    # The global edition of the run that made it; NULL for an alert, or a subscriber's digest
    # made by a run that made no new edition. Deliveries with items are rendered per subscriber.
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id"), index=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"))
    kind: Mapped[str] = mapped_column(String(10), default="digest")  # "digest" | "alert"
    created: Mapped[datetime | None]
    # pending -> sending (claimed by a run, see Store.claim_delivery) -> sent
    status: Mapped[str] = mapped_column(String(10), default="pending")
    claimed: Mapped[datetime | None]
    sent: Mapped[datetime | None]
    error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(Text)


class DeliveryItemRow(Base):
    __tablename__ = "delivery_items"
    __table_args__ = (UniqueConstraint("delivery_id", "incident_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    kind: Mapped[str] = mapped_column(String(10))
    changes: Mapped[list] = mapped_column(JSON)


class SubscriberSeenRow(Base):
    __tablename__ = "subscriber_seen"
    __table_args__ = (UniqueConstraint("subscriber_id", "incident_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id"), index=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id"))
    snapshot: Mapped[dict] = mapped_column(JSON)
    seen: Mapped[datetime]


class BackfillRunRow(Base):
    __tablename__ = "backfill_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), index=True)
    since: Mapped[date] = mapped_column(Date)
    until: Mapped[date] = mapped_column(Date)
    options: Mapped[dict] = mapped_column(JSON)
    discovered: Mapped[list] = mapped_column(JSON)  # sources whose page list is complete
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id"))
    created: Mapped[datetime]
    finished: Mapped[datetime | None]


class BackfillPageRow(Base):
    __tablename__ = "backfill_pages"
    __table_args__ = (UniqueConstraint("run_id", "url"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("backfill_runs.id"))
    source: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text, index=True)
    title: Mapped[str] = mapped_column(Text, default="")
    published: Mapped[datetime | None]
    # pending -> stored | known (already stored) | outside (published outside the window)
    # | failed (error kept; a later run tries it again)
    status: Mapped[str] = mapped_column(String(12), index=True)
    error: Mapped[str | None] = mapped_column(Text)


# An incident whose every report was re-extracted away is kept (a digest may have shown it)
# but no longer listed.
_HAS_EVENTS = exists().where(EventRow.incident_id == IncidentRow.id)


@dataclass(frozen=True)
class ArticleIn:
    """An article ready to store."""

    url: str
    guid: str | None
    title: str
    published: datetime
    published_from: str
    text: str


@dataclass(frozen=True)
class PageIn:
    """A page a backfill listing found: its URL and what the listing says of it."""

    url: str
    title: str = ""
    published: datetime | None = None


@dataclass(frozen=True)
class PendingPage:
    """A backfill page still to fetch."""

    page_id: int
    source: str
    url: str
    title: str
    published: datetime | None


@dataclass(frozen=True)
class PageOutcome:
    """What fetching a backfill page gave: an article and its events, or why not."""

    page_id: int
    status: str  # "stored" | "outside" | "failed"
    article: ArticleIn | None = None
    events: tuple[Event, ...] = ()
    error: str | None = None


@dataclass
class BatchStored:
    """What storing backfill results (or re-extracted events) changed."""

    articles: int = 0
    known: int = 0
    events: int = 0
    changed: int = 0
    incidents_new: set[int] = field(default_factory=set)
    incidents_updated: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class StoredArticle:
    """A stored article, for re-extraction."""

    article_id: int
    url: str
    text: str
    published: datetime


@dataclass(frozen=True)
class SourceChange:
    """A change in a source's health that ops should hear about."""

    kind: str  # "alert" | "recovered"
    since: datetime | None
    error: str | None


@dataclass(frozen=True)
class SourceHealth:
    """What `basewatch sources` shows for one source."""

    name: str
    url: str
    last_success: datetime | None
    last_failure: datetime | None
    last_error: str | None
    consecutive_failures: int
    articles: int


@dataclass(frozen=True)
class PendingDelivery:
    """A digest or alert still owed to a subscriber."""

    delivery_id: int
    digest_id: int | None
    email: str
    message_id: str
    kind: str = "digest"
    created: datetime | None = None
    preferences: Preferences = field(default_factory=Preferences)


@dataclass(frozen=True)
class SubscriberState:
    """What choosing a subscriber's digest or alert needs to know about them."""

    id: int
    email: str
    preferences: Preferences
    since: datetime | None
    last_digest: datetime | None
    seen: dict[int, dict[str, Any]]


@dataclass(frozen=True)
class MailingItem:
    """One incident in a subscriber's mail: "new" or "updated", what changed, its snapshot."""

    incident_id: int
    kind: str
    changes: tuple[str, ...]
    snapshot: dict[str, Any]


@dataclass(frozen=True)
class IncidentFilter:
    """Which incidents to list: every field that is set must match (None matches all)."""

    country: str | None = None  # ISO 3166 alpha-2 of the site
    site_id: str | None = None
    attack_type: str | None = None
    since: date | None = None  # the attack's dates meet since..until
    until: date | None = None
    include_recalled: bool = False  # also incidents known only from recalled mentions

    def matches(self, summary: dict[str, Any]) -> bool:
        """Return True if an incident summary (the JSON contract's E) passes the filter."""
        site = summary.get("site") or {}
        if self.country and site.get("country") != self.country:
            return False
        if self.site_id and site.get("id") != self.site_id:
            return False
        return not (self.attack_type and summary.get("attack_type") != self.attack_type)


@dataclass(frozen=True)
class DigestInfo:
    """A stored digest as the archive lists it."""

    id: int
    created: datetime
    subject: str


def _migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (no-op when it is already there)."""
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    if current == head:
        return
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Two runs starting on a fresh database: one migrates, the other waits, finds it done.
            connection.execute(select(func.pg_advisory_xact_lock(MIGRATE_LOCK)))
            if MigrationContext.configure(connection).get_current_revision() == head:
                return
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    logger.debug("database migrated to %s", head)


def open_store(url: str, gazetteer: Gazetteer) -> Store:
    """Return a Store on the database at ``url``, creating and migrating it if needed."""
    try:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        _migrate(engine)
    except (SQLAlchemyError, OSError) as exc:
        raise StoreError(f"database {_safe_url(url)}: {str(exc).splitlines()[0]}") from exc
    return Store(engine, gazetteer)


def _safe_url(url: str) -> str:
    """Return the URL without a password."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is shown as given
        return url


def _sqlite_pragmas(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


class Store:
    """Queries and updates; each public method is one transaction."""

    def __init__(self, engine: Engine, gazetteer: Gazetteer) -> None:
        self.engine = engine
        self.gazetteer = gazetteer
        self._session = sessionmaker(engine, expire_on_commit=False)

    def session(self) -> Session:
        """Return a new session (use as a context manager)."""
        return self._session()

    # -- sources -----------------------------------------------------------------------------

    def source_state(self, name: str, url: str) -> tuple[str | None, str | None]:
        """Return (etag, last_modified) kept for the source, registering it if new."""
        with self.session() as s, s.begin():
            row = s.scalar(select(SourceRow).where(SourceRow.name == name))
            if row is None:
                row = SourceRow(name=name, url=url, consecutive_failures=0)
                s.add(row)
            elif row.url != url:
                row.url, row.etag, row.last_modified = url, None, None
            return row.etag, row.last_modified

    def record_source(
        self,
        name: str,
        url: str,
        *,
        error: str | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        alert_after: timedelta | None = None,
    ) -> SourceChange | None:
        """Record a poll's outcome: success (with the new validators) or the error.

        Returns SourceChange("alert") the first time a source has been failing for longer than
        ``alert_after``, SourceChange("recovered") when a source ops were told about works
        again, else None. The decision is made in the same transaction, so one alert goes out
        per run of failures however many runs see it.
        """
        with self.session() as s, s.begin():
            row = s.scalar(select(SourceRow).where(SourceRow.name == name).with_for_update())
            if row is None:
                row = SourceRow(name=name, url=url, consecutive_failures=0)
                s.add(row)
            now = utcnow()
            if error is None:
                change = SourceChange("recovered", row.failing_since, None) if row.alerted else None
                row.last_success, row.consecutive_failures = now, 0
                row.failing_since, row.alerted = None, None
                if etag is not None or last_modified is not None:
                    row.etag, row.last_modified = etag, last_modified
                return change
            row.last_failure, row.last_error = now, error
            row.consecutive_failures = (row.consecutive_failures or 0) + 1
            row.failing_since = row.failing_since or now
            if (
                alert_after is not None
                and row.alerted is None
                and now - row.failing_since >= alert_after
            ):
                row.alerted = now
                return SourceChange("alert", row.failing_since, error)
            return None

    def source_health(self) -> list[SourceHealth]:
        """Return health and article counts for every source seen."""
        with self.session() as s:
            counts = dict(
                s.execute(select(ArticleRow.source_id, func.count()).group_by(ArticleRow.source_id))
                .tuples()
                .all()
            )
            return [
                SourceHealth(
                    r.name,
                    r.url,
                    r.last_success,
                    r.last_failure,
                    r.last_error,
                    r.consecutive_failures or 0,
                    counts.get(r.id, 0),
                )
                for r in s.scalars(select(SourceRow).order_by(SourceRow.name))
            ]

    # -- articles ----------------------------------------------------------------------------

    def known_article(self, source: str, url: str, guid: str | None) -> bool:
        """Return True if this canonical URL is stored, or this source already gave this GUID."""
        with self.session() as s:
            query = select(ArticleRow.id).where(ArticleRow.url == url)
            if guid:
                source_id = select(SourceRow.id).where(SourceRow.name == source).scalar_subquery()
                query = select(ArticleRow.id).where(
                    (ArticleRow.url == url)
                    | ((ArticleRow.guid == guid) & (ArticleRow.source_id == source_id))
                )
            return s.scalar(query.limit(1)) is not None

    def add_article(
        self, source: str, article: ArticleIn, events: list[Event]
    ) -> tuple[int, list[int], list[int]] | None:
        """Store an article and its events, merging each into an incident.

        Returns (article id, new incident ids, touched incident ids), or None when the article
        is already stored (same canonical URL or same text): nothing is added twice.
        """
        try:
            with self.session() as s, s.begin():
                source_id = s.scalar(select(SourceRow.id).where(SourceRow.name == source))
                return self._add_article(s, source_id, article, events, utcnow())
        except IntegrityError:
            return None  # a concurrent run stored it first

    def _add_article(
        self,
        s: Session,
        source_id: int | None,
        article: ArticleIn,
        events: list[Event],
        now: datetime,
        merged: dict[int, Incident] | None = None,
        stored: tuple[set[str], set[str]] | None = None,
    ) -> tuple[int, list[int], list[int]] | None:
        """``stored``: the URLs and text hashes already stored, read beforehand in this
        transaction (see _stored_keys); this article's are added. Else they are queried."""
        digest = text_hash(article.text)
        if stored is not None:
            if article.url in stored[0] or digest in stored[1]:
                return None
        elif s.scalar(
            select(ArticleRow.id)
            .where((ArticleRow.url == article.url) | (ArticleRow.text_hash == digest))
            .limit(1)
        ):
            return None
        row = ArticleRow(
            source_id=source_id,
            url=article.url,
            guid=article.guid,
            title=article.title,
            published=article.published,
            published_offset=_offset_minutes(article.published),
            published_from=article.published_from,
            fetched=now,
            text_hash=digest,
            text=article.text,
        )
        s.add(row)
        s.flush()  # IntegrityError if a concurrent run stored it first
        if stored is not None:
            stored[0].add(article.url)
            stored[1].add(digest)
        new_ids, touched = self._add_events(s, row, events, now, merged)
        return row.id, new_ids, touched

    def _add_events(
        self,
        s: Session,
        row: ArticleRow,
        events: list[Event],
        now: datetime,
        merged: dict[int, Incident] | None = None,
    ) -> tuple[list[int], list[int]]:
        """Store an article's events, each merged into an incident; return (new, touched).
        ``merged`` collects each touched incident as it now stands."""
        ref = SourceRef(row.url, row.title, _local(row))
        new_ids: list[int] = []
        touched: list[int] = []
        for ev in events:
            data = ev.to_dict()
            incident_row, before = self._merge_event(s, ev, ref, now)
            incident_id = incident_row.id
            s.add(
                EventRow(
                    article_id=row.id,
                    incident_id=incident_id,
                    site_id=ev.site.id if ev.site else None,
                    date_start=ev.date_start,
                    date_end=ev.date_end,
                    recent=ev.recent,
                    data=data,
                )
            )
            # The incident as a reread would give it: its reports, then this one (as stored).
            site = self.gazetteer.get(ev.site.id) if ev.site else None
            report = Report(event_from_dict(data, site), ref)
            reports = (*before.reports, report) if before is not None else (report,)
            if REPORTS_CACHE in s.info:
                s.info[REPORTS_CACHE][incident_id] = reports
            incident = self._refresh_incident(s, incident_row, now, reports)
            if merged is not None:
                merged[incident_id] = incident
            (new_ids if before is None else touched).append(incident_id)
        return new_ids, [i for i in touched if i not in new_ids]

    def _merge_event(
        self, s: Session, ev: Event, ref: SourceRef, now: datetime
    ) -> tuple[IncidentRow, Incident | None]:
        """Return the row of the incident the event joins, with that incident as it was
        (None for a new incident)."""
        window = (ev.date_start - timedelta(days=1), ev.date_end + timedelta(days=1))
        # Only the columns an Incident needs: loading each candidate as an ORM row (and
        # decoding its stored summary) costs more than matching; the match is then got by id.
        rows = s.execute(
            select(IncidentRow.id, IncidentRow.first_seen, IncidentRow.updated).where(
                IncidentRow.date_start <= window[1], IncidentRow.date_end >= window[0]
            )
        ).all()
        found = match_incident(ev, self._incidents(s, list(rows)), ref.url)
        if found is not None and found.id is not None:
            return s.get(IncidentRow, found.id), found
        row = IncidentRow(
            site_id=ev.site.id if ev.site else None,
            date_start=ev.date_start,
            date_end=ev.date_end,
            newsworthy=ev.recent,
            summary=ev.to_dict(),
            first_seen=now,
            updated=now,
        )
        s.add(row)
        s.flush()
        return row, None

    def _refresh_incident(
        self,
        s: Session,
        incident: int | IncidentRow,
        now: datetime,
        reports: tuple[Report, ...] | None = None,
    ) -> Incident:
        """Recompute the incident's stored summary from its reports (read, unless given)."""
        row = s.get(IncidentRow, incident) if isinstance(incident, int) else incident
        if reports is None:
            incident = self._incident(s, row)
        else:
            incident = Incident(row.id, reports, row.first_seen, row.updated)
        summary = incident.summary.to_dict()
        if summary != row.summary:
            row.updated = now
        row.summary = summary
        row.site_id = summary["site"]["id"] if summary["site"] else None
        row.date_start = date.fromisoformat(summary["date_start"])
        row.date_end = date.fromisoformat(summary["date_end"])
        row.newsworthy = incident.newsworthy
        return incident

    def _incident(self, s: Session, row: IncidentRow) -> Incident:
        return self._incidents(s, [row])[0]

    def _incidents(self, s: Session, rows: list[IncidentRow]) -> list[Incident]:
        """Return the incidents of these rows with their reports, read in one query per 900
        incidents (only the columns a report needs: no article text)."""
        # A session that stores backfill batches keeps each incident's reports as it read or
        # wrote them (see _store_batch): only this session changes them meanwhile.
        cache: dict[int, tuple[Report, ...]] | None = s.info.get(REPORTS_CACHE)
        reports: dict[int, list[Report]] = {r.id: [] for r in rows}
        ids = [i for i in reports if cache is None or i not in cache]
        for start in range(0, len(ids), 900):
            found = s.execute(
                select(
                    EventRow.incident_id,
                    EventRow.site_id,
                    EventRow.data,
                    ArticleRow.url,
                    ArticleRow.title,
                    ArticleRow.published,
                    ArticleRow.published_offset,
                )
                .join(ArticleRow, ArticleRow.id == EventRow.article_id)
                .where(EventRow.incident_id.in_(ids[start : start + 900]))
                .order_by(EventRow.id)
            )
            for incident_id, site_id, data, url, title, published, offset in found:
                site = self.gazetteer.get(site_id) if site_id else None
                local = published.astimezone(timezone(timedelta(minutes=offset or 0)))
                reports[incident_id].append(
                    Report(event_from_dict(data, site), SourceRef(url, title, local))
                )
        if cache is None:
            return [Incident(r.id, tuple(reports[r.id]), r.first_seen, r.updated) for r in rows]
        for i in ids:
            cache[i] = tuple(reports[i])
        return [Incident(r.id, cache[r.id], r.first_seen, r.updated) for r in rows]

    # -- incidents ---------------------------------------------------------------------------

    def incidents(
        self, since: date | None = None, until: date | None = None, ids: list[int] | None = None
    ) -> list[Incident]:
        """Return incidents whose dates meet since..until (or with the given ids), oldest first."""
        with self.session() as s:
            query = (
                select(IncidentRow)
                .where(_HAS_EVENTS)
                .order_by(IncidentRow.date_start, IncidentRow.id)
            )
            if since:
                query = query.where(IncidentRow.date_end >= since)
            if until:
                query = query.where(IncidentRow.date_start <= until)
            if ids is not None:
                query = query.where(IncidentRow.id.in_(ids))
            return self._incidents(s, list(s.scalars(query)))

    def incident(self, incident_id: int) -> Incident | None:
        """Return one incident with every report of it, or None."""
        with self.session() as s:
            row = s.get(IncidentRow, incident_id)
            return self._incident(s, row) if row is not None else None

    def find_incidents(
        self, query: IncidentFilter, offset: int = 0, limit: int | None = None
    ) -> tuple[list[Incident], int]:
        """Return one page of the incidents that pass ``query``, newest first, and their total.

        Dates, site and recency are filtered in SQL; country and type on the stored summary, so
        only the page's incidents are loaded with their reports.
        """
        with self.session() as s:
            sql = select(IncidentRow.id, IncidentRow.summary).order_by(
                IncidentRow.date_start.desc(), IncidentRow.id.desc()
            )
            if query.since:
                sql = sql.where(IncidentRow.date_end >= query.since)
            if query.until:
                sql = sql.where(IncidentRow.date_start <= query.until)
            if query.site_id:
                sql = sql.where(IncidentRow.site_id == query.site_id)
            if not query.include_recalled:
                sql = sql.where(IncidentRow.newsworthy.is_(True))
            ids = [i for i, summary in s.execute(sql).tuples() if query.matches(summary)]
            chosen = ids[offset : offset + limit if limit is not None else None]
            rows = {
                r.id: r for r in s.scalars(select(IncidentRow).where(IncidentRow.id.in_(chosen)))
            }
            return self._incidents(s, [rows[i] for i in chosen]), len(ids)

    def counts(self) -> dict[str, int]:
        """Return row counts of the main tables."""
        with self.session() as s:
            return {
                "articles": s.scalar(select(func.count()).select_from(ArticleRow)) or 0,
                "events": s.scalar(select(func.count()).select_from(EventRow)) or 0,
                "incidents": s.scalar(
                    select(func.count()).select_from(IncidentRow).where(_HAS_EVENTS)
                )
                or 0,
                "digests": s.scalar(
                    select(func.count()).select_from(DigestRow).where(DigestRow.quiet.is_(False))
                )
                or 0,
            }

    # -- digests -----------------------------------------------------------------------------

    def digest_candidates(self) -> tuple[list[Incident], dict[int, dict[str, Any]]]:
        """Return newsworthy incidents and, per incident already digested, its last snapshot."""
        with self.session() as s:
            snapshots: dict[int, dict[str, Any]] = {}
            for item in s.scalars(select(DigestItemRow).order_by(DigestItemRow.id)):
                snapshots[item.incident_id] = item.snapshot
            rows = s.scalars(
                select(IncidentRow)
                .where(IncidentRow.newsworthy.is_(True), _HAS_EVENTS)
                .order_by(IncidentRow.date_start, IncidentRow.id)
            )
            return self._incidents(s, list(rows)), snapshots

    def _lock_digests(self, s: Session) -> None:
        """Make this transaction the only digest (and mailing) writer until it ends."""
        if self.engine.dialect.name == "postgresql":
            # One digest writer at a time; a second run waits, then finds nothing new.
            s.execute(select(func.pg_advisory_xact_lock(DIGEST_LOCK)))
        elif self.engine.dialect.name == "sqlite":
            # A write first takes SQLite's write lock for the whole transaction, so a
            # second run waits here (busy_timeout) and then finds nothing new.
            s.execute(text("UPDATE digests SET id = id WHERE 0"))

    def create_digest(
        self, items: list[tuple[int, str, dict[str, Any]]], render: Any
    ) -> int | None:
        """Store a global digest edition (the archive) and what it shows, in one transaction.

        ``items`` are (incident id, "new"|"updated", snapshot); ``render(digest_id)`` returns
        the RenderedDigest to keep. Returns the digest id, or None if another run already
        digested the same incident state (no duplicate digest). Subscribers' mail is made by
        create_mailings.
        """
        with self.session() as s, s.begin():
            self._lock_digests(s)
            last = {}
            for item in s.scalars(select(DigestItemRow).order_by(DigestItemRow.id)):
                last[item.incident_id] = item.snapshot
            if all(last.get(incident_id) == snap for incident_id, _, snap in items):
                return None
            digest = DigestRow(created=utcnow(), subject="", text="", html="")
            s.add(digest)
            s.flush()
            rendered = render(digest.id)
            digest.subject, digest.text, digest.html = (
                rendered.subject,
                rendered.text,
                rendered.html,
            )
            for incident_id, kind, snapshot in items:
                s.add(
                    DigestItemRow(
                        digest_id=digest.id, incident_id=incident_id, kind=kind, snapshot=snapshot
                    )
                )
            return digest.id

    def mark_seen_by_all(self, shown: list[tuple[int, dict[str, Any]]]) -> None:
        """Record incidents as told to every active subscriber, without mailing them.

        ``shown`` holds (incident id, snapshot). For what everyone should hear of as known,
        not as new: a quiet backfill of years of history, for example.
        """
        with self.session() as s, s.begin():
            self._lock_digests(s)
            self._mark_seen(s, shown, utcnow())

    def _mark_seen(
        self, s: Session, shown: list[tuple[int, dict[str, Any]]], now: datetime
    ) -> None:
        subscriber_ids = list(
            s.scalars(select(SubscriberRow.id).where(SubscriberRow.active.is_(True)))
        )
        ids = [incident_id for incident_id, _ in shown]
        existing = {
            (row.subscriber_id, row.incident_id): row
            for start in range(0, len(ids), 500)
            for row in s.scalars(
                select(SubscriberSeenRow).where(
                    SubscriberSeenRow.incident_id.in_(ids[start : start + 500])
                )
            )
        }
        for subscriber_id in subscriber_ids:
            for incident_id, snap in shown:
                row = existing.get((subscriber_id, incident_id))
                if row is None:
                    s.add(
                        SubscriberSeenRow(
                            subscriber_id=subscriber_id,
                            incident_id=incident_id,
                            snapshot=snap,
                            seen=now,
                        )
                    )
                else:
                    row.snapshot, row.seen = snap, now

    def digest_ids(self) -> list[int]:
        """Return the ids of every stored digest, oldest first."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(DigestRow.id).where(DigestRow.quiet.is_(False)).order_by(DigestRow.id)
                )
            )

    def digest_list(self) -> list[DigestInfo]:
        """Return every stored digest's id, time and subject, newest first."""
        with self.session() as s:
            rows = s.execute(
                select(DigestRow.id, DigestRow.created, DigestRow.subject).order_by(
                    DigestRow.id.desc()
                )
            ).tuples()
            return [DigestInfo(i, created, subject) for i, created, subject in rows]

    def digest(self, digest_id: int) -> DigestRow | None:
        """Return a stored digest."""
        with self.session() as s:
            return s.get(DigestRow, digest_id)

    def pending_deliveries(self) -> list[PendingDelivery]:
        """Return every delivery not yet sent, oldest first."""
        with self.session() as s:
            rows = s.execute(
                select(DeliveryRow, SubscriberRow)
                .join(SubscriberRow, SubscriberRow.id == DeliveryRow.subscriber_id)
                .where(DeliveryRow.status != "sent", SubscriberRow.active.is_(True))
                .order_by(DeliveryRow.id)
            ).tuples()
            return [
                PendingDelivery(
                    d.id,
                    d.digest_id,
                    sub.email,
                    d.message_id,
                    d.kind or "digest",
                    d.created,
                    Preferences.from_dict(sub.preferences),
                )
                for d, sub in rows
            ]

    def delivery_items(self, delivery_ids: list[int]) -> dict[int, list[MailingItem]]:
        """Return, per delivery, the incidents it shows (none for a delivery made before 0006)."""
        found: dict[int, list[MailingItem]] = {}
        with self.session() as s:
            for start in range(0, len(delivery_ids), 500):
                chunk = delivery_ids[start : start + 500]
                for row in s.scalars(
                    select(DeliveryItemRow)
                    .where(DeliveryItemRow.delivery_id.in_(chunk))
                    .order_by(DeliveryItemRow.id)
                ):
                    found.setdefault(row.delivery_id, []).append(
                        MailingItem(row.incident_id, row.kind, tuple(row.changes), {})
                    )
        return found

    def create_mailings(
        self,
        kind: str,
        choose: Any,
        message_id: Any,
        now: datetime,
        digest_id: int | None = None,
    ) -> int:
        """Create each active subscriber's digest or alert; return how many were made.

        ``choose(subscriber: SubscriberState, incidents: list[Incident])`` returns the
        MailingItems for that subscriber (empty: nothing to send). One transaction, under the
        digest writers' lock (so two runs never both make one), stores each pending delivery,
        its items and the snapshots the subscriber is shown (subscriber_seen): a crash leaves
        all of it or none. ``message_id(digest_id, delivery_id, email, kind)`` names the
        message.
        """
        made = 0
        with self.session() as s, s.begin():
            self._lock_digests(s)
            subscribers = s.scalars(
                select(SubscriberRow)
                .where(SubscriberRow.active.is_(True))
                .order_by(SubscriberRow.id)
            ).all()
            if not subscribers:
                return 0
            # What a subscriber can be told is new since they subscribed, or changed since
            # they were shown it (after they subscribed): older incidents need not be loaded.
            earliest = min(sub.since or sub.created for sub in subscribers)
            incidents = [
                self._incident(s, r)
                for r in s.scalars(
                    select(IncidentRow)
                    .where(IncidentRow.newsworthy.is_(True), IncidentRow.updated >= earliest)
                    .order_by(IncidentRow.date_start, IncidentRow.id)
                )
            ]
            seen: dict[int, dict[int, SubscriberSeenRow]] = {}
            ids = [i.id for i in incidents]
            for start in range(0, len(ids), 500):
                for row in s.scalars(
                    select(SubscriberSeenRow).where(
                        SubscriberSeenRow.incident_id.in_(ids[start : start + 500])
                    )
                ):
                    seen.setdefault(row.subscriber_id, {})[row.incident_id] = row
            for sub in subscribers:
                mine = seen.get(sub.id, {})
                state = SubscriberState(
                    sub.id,
                    sub.email,
                    Preferences.from_dict(sub.preferences),
                    sub.since or sub.created,
                    sub.last_digest,
                    {incident_id: row.snapshot for incident_id, row in mine.items()},
                )
                items: list[MailingItem] = choose(state, incidents)
                if not items:
                    continue
                delivery = DeliveryRow(
                    digest_id=digest_id,
                    subscriber_id=sub.id,
                    kind=kind,
                    created=now,
                    status="pending",
                    message_id="",
                )
                s.add(delivery)
                s.flush()
                delivery.message_id = message_id(digest_id, delivery.id, sub.email, kind)
                for item in items:
                    s.add(
                        DeliveryItemRow(
                            delivery_id=delivery.id,
                            incident_id=item.incident_id,
                            kind=item.kind,
                            changes=list(item.changes),
                        )
                    )
                    row = mine.get(item.incident_id)
                    if row is None:
                        s.add(
                            SubscriberSeenRow(
                                subscriber_id=sub.id,
                                incident_id=item.incident_id,
                                snapshot=item.snapshot,
                                seen=now,
                            )
                        )
                    else:
                        row.snapshot, row.seen = item.snapshot, now
                if kind == "digest":
                    sub.last_digest = now
                made += 1
        return made

    @contextmanager
    def sending(self) -> Iterator[None]:
        """Hold the delivery runs' shared lock; a run that finds none other frees dead runs' claims.

        PostgreSQL: an advisory lock on a connection kept for the run; SQLite: flock on a file
        beside the database. Either is released when the process dies, so a killed run's claims
        are retried by the next run at once, not after SENDING_LEASE.
        """
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as lock:
                try:
                    if lock.scalar(select(func.pg_try_advisory_lock(SENDERS_LOCK))):
                        self._release_claims()
                        lock.execute(select(func.pg_advisory_unlock(SENDERS_LOCK)))
                    lock.execute(select(func.pg_advisory_lock_shared(SENDERS_LOCK)))
                    yield
                finally:
                    lock.invalidate()  # closes the connection: no lock goes back to the pool
            return
        database = self.engine.url.database
        if (
            self.engine.dialect.name != "sqlite"
            or fcntl is None
            or not database
            or database == ":memory:"
        ):
            yield  # no lock: claims still hold, and dead runs' claims wait out SENDING_LEASE
            return
        with open(f"{database}.senders", "a") as lock_file:
            try:
                fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                self._release_claims()
            except BlockingIOError:
                pass  # another run is sending: its claims are live
            fcntl.flock(lock_file, fcntl.LOCK_SH)
            yield

    def _release_claims(self) -> None:
        """Put deliveries claimed by runs that died mid-send back to pending (none is running)."""
        with self.session() as s, s.begin():
            s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.status == "sending")
                .values(status="pending", claimed=None)
            )

    def claim_delivery(self, delivery_id: int) -> bool:
        """Claim a delivery for this run; return False if another run has it or it was sent.

        One UPDATE checked by its row count, so two runs can never both claim it (PostgreSQL
        re-checks the WHERE after a concurrent update; SQLite serialises writers).
        """
        now = utcnow()
        with self.session() as s, s.begin():
            claimable = (DeliveryRow.status == "pending") | (
                (DeliveryRow.status == "sending") & (DeliveryRow.claimed < now - SENDING_LEASE)
            )
            result = s.execute(
                update(DeliveryRow)
                .where(DeliveryRow.id == delivery_id, claimable)
                .values(status="sending", claimed=now)
                .execution_options(synchronize_session=False)
            )
            return result.rowcount == 1

    def mark_delivery(self, delivery_id: int, error: str | None = None) -> None:
        """Record a claimed delivery as sent, or its error (back to pending for the next run)."""
        with self.session() as s, s.begin():
            row = s.get(DeliveryRow, delivery_id)
            if error is None:
                row.status, row.sent, row.error = "sent", utcnow(), None
            else:
                row.status, row.claimed, row.error = "pending", None, error

    # -- subscribers -------------------------------------------------------------------------

    def add_subscriber(self, email: str, prefs: Preferences | None = None) -> bool:
        """Add (or re-activate) a subscriber; return False if already active.

        An active subscriber's preferences are left alone (change them with set_preferences);
        a re-activated one gets ``prefs`` if given, else keeps the old ones.
        """
        now = utcnow()
        with self.session() as s, s.begin():
            row = s.scalar(select(SubscriberRow).where(SubscriberRow.email == email))
            if row is not None:
                if row.active:
                    return False
                row.active, row.since = True, now
                if prefs is not None:
                    row.preferences = prefs.to_dict()
                return True
            s.add(
                SubscriberRow(
                    email=email,
                    active=True,
                    created=now,
                    since=now,
                    preferences=(prefs or Preferences()).to_dict(),
                )
            )
            return True

    def remove_subscriber(self, email: str) -> bool:
        """Deactivate a subscriber (history kept); return False if not subscribed."""
        with self.session() as s, s.begin():
            row = s.scalar(select(SubscriberRow).where(SubscriberRow.email == email))
            if row is None or not row.active:
                return False
            row.active = False
            return True

    def subscribers(self) -> list[str]:
        """Return active subscribers' addresses."""
        with self.session() as s:
            return list(
                s.scalars(
                    select(SubscriberRow.email)
                    .where(SubscriberRow.active.is_(True))
                    .order_by(SubscriberRow.email)
                )
            )

    def subscriber_preferences(self, email: str) -> Preferences | None:
        """Return an active subscriber's preferences, or None if the address is not one."""
        with self.session() as s:
            row = s.scalar(
                select(SubscriberRow).where(
                    SubscriberRow.email == email, SubscriberRow.active.is_(True)
                )
            )
            return None if row is None else Preferences.from_dict(row.preferences)

    def set_preferences(self, email: str, prefs: Preferences) -> None:
        """Replace an active subscriber's preferences; NotSubscribedError if there is none."""
        with self.session() as s, s.begin():
            row = s.scalar(
                select(SubscriberRow).where(
                    SubscriberRow.email == email, SubscriberRow.active.is_(True)
                )
            )
            if row is None:
                raise NotSubscribedError(f"{email} is not subscribed")
            row.preferences = prefs.to_dict()

    def subscriber_list(self) -> list[tuple[str, Preferences]]:
        """Return (address, preferences) of every active subscriber, by address."""
        with self.session() as s:
            rows = s.scalars(
                select(SubscriberRow)
                .where(SubscriberRow.active.is_(True))
                .order_by(SubscriberRow.email)
            )
            return [(r.email, Preferences.from_dict(r.preferences)) for r in rows]

    def iter_articles(self) -> Iterator[tuple[str, str, datetime]]:
        """Yield (url, text, published) for every stored article."""
        with self.session() as s:
            for row in s.scalars(select(ArticleRow).order_by(ArticleRow.id)):
                yield row.url, row.text, _local(row)

    # -- backfill ----------------------------------------------------------------------------

    def start_backfill(
        self, key: str, since: date, until: date, options: dict[str, Any]
    ) -> tuple[int, bool]:
        """Return (run id, resumed): the unfinished backfill run with this key, else a new one."""
        with self.session() as s, s.begin():
            row = s.scalar(
                select(BackfillRunRow)
                .where(BackfillRunRow.key == key, BackfillRunRow.finished.is_(None))
                .order_by(BackfillRunRow.id.desc())
                .limit(1)
            )
            if row is not None:
                return row.id, True
            row = BackfillRunRow(
                key=key, since=since, until=until, options=options, discovered=[], created=utcnow()
            )
            s.add(row)
            s.flush()
            return row.id, False

    def backfill_discovered(self, run_id: int) -> set[str]:
        """Return the sources whose page list this run already holds in full."""
        with self.session() as s:
            return set(s.get(BackfillRunRow, run_id).discovered)

    def add_backfill_pages(self, run_id: int, source: str, pages: list[PageIn]) -> int:
        """Record a source's pages for the run and mark its listing complete; return how many
        of them are already had (stored as articles, or found outside the window by an earlier
        run): those are not fetched again."""
        with self.session() as s, s.begin():
            run = s.get(BackfillRunRow, run_id)
            if source in run.discovered:
                return 0
            wanted: dict[str, PageIn] = {}
            for page in pages:
                wanted.setdefault(page.url, page)
            done: set[str] = set()
            urls = list(wanted)
            for start in range(0, len(urls), 500):
                chunk = urls[start : start + 500]
                done.update(s.scalars(select(ArticleRow.url).where(ArticleRow.url.in_(chunk))))
                done.update(
                    s.scalars(
                        select(BackfillPageRow.url).where(
                            BackfillPageRow.url.in_(chunk),
                            (BackfillPageRow.run_id == run_id)
                            | BackfillPageRow.status.in_(("outside", "known", "stored")),
                        )
                    )
                )
            had = 0
            for url, page in wanted.items():
                if url in done:
                    had += 1
                    continue
                s.add(
                    BackfillPageRow(
                        run_id=run_id,
                        source=source,
                        url=url,
                        title=page.title,
                        published=page.published,
                        status="pending",
                    )
                )
            run.discovered = [*run.discovered, source]
            return had

    def pending_backfill_pages(self, run_id: int) -> list[PendingPage]:
        """Return the run's pages still to fetch, in listing order."""
        with self.session() as s:
            rows = s.scalars(
                select(BackfillPageRow)
                .where(BackfillPageRow.run_id == run_id, BackfillPageRow.status == "pending")
                .order_by(BackfillPageRow.id)
            )
            return [PendingPage(r.id, r.source, r.url, r.title, r.published) for r in rows]

    def backfill_counts(self, run_id: int) -> dict[str, int]:
        """Return the run's pages per status."""
        with self.session() as s:
            return dict(
                s.execute(
                    select(BackfillPageRow.status, func.count())
                    .where(BackfillPageRow.run_id == run_id)
                    .group_by(BackfillPageRow.status)
                )
                .tuples()
                .all()
            )

    def store_backfill_batch(
        self, run_id: int, outcomes: list[PageOutcome], quiet: bool
    ) -> BatchStored:
        """Store a batch of fetched pages (articles, events, incidents) and their page status in
        one transaction, so an interrupted run resumes exactly after the last batch stored.

        ``quiet``: record the incidents touched as told (see _tell_quietly)."""
        try:
            return self._store_batch(run_id, outcomes, quiet)
        except IntegrityError:
            # A concurrent ingest stored one of these articles meanwhile: one page at a time.
            total = BatchStored()
            for outcome in outcomes:
                try:
                    part = self._store_batch(run_id, [outcome], quiet)
                except IntegrityError:
                    part = self._store_batch(run_id, [_as_known(outcome)], quiet)
                _add_up(total, part)
            return total

    def _store_batch(self, run_id: int, outcomes: list[PageOutcome], quiet: bool) -> BatchStored:
        result = BatchStored()
        now = utcnow()
        merged: dict[int, Incident] = {}
        with self.session() as s, s.begin():
            s.info[REPORTS_CACHE] = {}  # incident id -> its reports, for this transaction
            source_ids = dict(s.execute(select(SourceRow.name, SourceRow.id)).tuples().all())
            pages = {
                p.id: p
                for p in s.scalars(
                    select(BackfillPageRow).where(
                        BackfillPageRow.id.in_([o.page_id for o in outcomes])
                    )
                )
            }
            stored_keys = self._stored_keys(
                s, [o.article for o in outcomes if o.article is not None]
            )
            for outcome in outcomes:
                page = pages[outcome.page_id]
                if page.status != "pending":
                    continue  # stored by an earlier attempt at this batch
                page.status, page.error = outcome.status, outcome.error
                if outcome.article is None:
                    continue
                stored = self._add_article(
                    s,
                    source_ids.get(page.source),
                    outcome.article,
                    list(outcome.events),
                    now,
                    merged,
                    stored_keys,
                )
                if stored is None:
                    page.status = "known"
                    result.known += 1
                    continue
                _, new_ids, touched = stored
                result.articles += 1
                result.events += len(outcome.events)
                result.incidents_new.update(new_ids)
                result.incidents_updated.update(touched)
            result.incidents_updated -= result.incidents_new
            if quiet:
                self._tell_quietly(
                    s, run_id, result.incidents_new | result.incidents_updated, merged
                )
        return result

    def _stored_keys(self, s: Session, articles: list[ArticleIn]) -> tuple[set[str], set[str]]:
        """Return the URLs and text hashes of these articles that are already stored, in one
        query per 400 articles."""
        urls: set[str] = set()
        hashes: set[str] = set()
        for start in range(0, len(articles), 400):
            chunk = articles[start : start + 400]
            found = s.execute(
                select(ArticleRow.url, ArticleRow.text_hash).where(
                    ArticleRow.url.in_([a.url for a in chunk])
                    | ArticleRow.text_hash.in_([text_hash(a.text) for a in chunk])
                )
            )
            for url, digest in found:
                urls.add(url)
                hashes.add(digest)
        return urls, hashes

    def _tell_quietly(
        self,
        s: Session,
        run_id: int,
        incident_ids: set[int],
        merged: dict[int, Incident] | None = None,
    ) -> None:
        """Record these incidents' state as told: in the run's quiet digest (one per backfill
        run, never mailed: the global edition) and as seen by every active subscriber, so the
        next digest does not present backfilled history as new to anyone.
        ``merged`` holds incidents as they now stand (the others are read)."""
        from extract.digest import snapshot

        merged = merged or {}
        incidents = [merged[i] for i in sorted(incident_ids) if i in merged]
        missing = [i for i in sorted(incident_ids) if i not in merged]
        if missing:
            rows = s.scalars(select(IncidentRow).where(IncidentRow.id.in_(missing))).all()
            incidents += self._incidents(s, list(rows))
        incidents = [i for i in incidents if i.newsworthy]
        if not incidents:
            return
        self._lock_digests(s)
        self._mark_seen(s, [(i.id, snapshot(i)) for i in incidents], utcnow())
        run = s.get(BackfillRunRow, run_id)
        if run.digest_id is None:
            quiet = DigestRow(
                created=utcnow(),
                subject=f"backfill {run.since}..{run.until} (recorded, not mailed)",
                text="",
                html="",
                quiet=True,
            )
            s.add(quiet)
            s.flush()
            run.digest_id = quiet.id
        # Delete and insert, not update: the newest row id is the state last told.
        s.execute(
            delete(DigestItemRow).where(
                DigestItemRow.digest_id == run.digest_id,
                DigestItemRow.incident_id.in_([i.id for i in incidents]),
            )
        )
        for incident in sorted(incidents, key=lambda i: i.id):
            s.add(
                DigestItemRow(
                    digest_id=run.digest_id,
                    incident_id=incident.id,
                    kind="backfill",
                    snapshot=snapshot(incident),
                )
            )

    def finish_backfill(self, run_id: int) -> None:
        """Mark the run complete: the next backfill of the same range starts a new run."""
        with self.session() as s, s.begin():
            s.get(BackfillRunRow, run_id).finished = utcnow()

    # -- re-extraction -----------------------------------------------------------------------

    def stored_articles(
        self, since: date, until: date, source: str | None = None
    ) -> list[StoredArticle]:
        """Return stored articles published since..until (their own local date), oldest first."""
        with self.session() as s:
            query = select(ArticleRow).where(
                ArticleRow.published
                >= datetime.combine(since, datetime.min.time(), UTC) - timedelta(days=1),
                ArticleRow.published
                < datetime.combine(until, datetime.min.time(), UTC) + timedelta(days=2),
            )
            if source:
                query = query.join(SourceRow, SourceRow.id == ArticleRow.source_id).where(
                    SourceRow.name == source
                )
            found = []
            for row in s.scalars(query.order_by(ArticleRow.published, ArticleRow.id)):
                local = _local(row)
                if since <= local.date() <= until:
                    found.append(StoredArticle(row.id, row.url, row.text, local))
            return found

    def replace_events(
        self, article_id: int, events: list[Event], run_id: int | None = None
    ) -> BatchStored:
        """Replace an article's events with these (one transaction) and recompute the incidents
        they belong to; nothing changes when the events are the same. ``run_id``: record the
        incidents touched as told in that backfill run's quiet digest."""
        result = BatchStored()
        now = utcnow()
        with self.session() as s, s.begin():
            old = s.scalars(
                select(EventRow).where(EventRow.article_id == article_id).order_by(EventRow.id)
            ).all()
            if [e.data for e in old] == [ev.to_dict() for ev in events]:
                return result
            result.changed = 1
            before = {e.incident_id for e in old}
            s.execute(delete(EventRow).where(EventRow.article_id == article_id))
            s.flush()
            for incident_id in sorted(before):
                left = s.scalar(
                    select(func.count())
                    .select_from(EventRow)
                    .where(EventRow.incident_id == incident_id)
                )
                if left:
                    self._refresh_incident(s, incident_id, now)
                    result.incidents_updated.add(incident_id)
                elif s.scalar(
                    select(func.count())
                    .select_from(DigestItemRow)
                    .where(DigestItemRow.incident_id == incident_id)
                ):
                    s.get(IncidentRow, incident_id).updated = now  # shown once: kept, unlisted
                else:
                    s.delete(s.get(IncidentRow, incident_id))
            s.flush()
            new_ids, touched = self._add_events(s, s.get(ArticleRow, article_id), events, now)
            result.events = len(events)
            result.incidents_new.update(new_ids)
            result.incidents_updated.update(touched)
            result.incidents_updated -= result.incidents_new
            live = {i for i in result.incidents_updated if s.get(IncidentRow, i) is not None}
            result.incidents_updated = live
            if run_id is not None:
                self._tell_quietly(s, run_id, result.incidents_new | result.incidents_updated)
        return result


def _as_known(outcome: PageOutcome) -> PageOutcome:
    """Return the outcome as an article another run stored first."""
    return PageOutcome(outcome.page_id, "known")


def _add_up(total: BatchStored, part: BatchStored) -> None:
    total.articles += part.articles
    total.known += part.known
    total.events += part.events
    total.changed += part.changed
    total.incidents_new |= part.incidents_new
    total.incidents_updated |= part.incidents_updated - total.incidents_new
