"""Each subscriber's mail: choosing their digest or alert, rendering it, sending what is owed.

The store keeps, per subscriber, the snapshot of every incident they were shown
(subscriber_seen), so "new" and "updated" are per subscriber. A delivery, its items and those
snapshots are written in one transaction; a delivery is claimed before it is sent and marked
sent as soon as the server accepts it, so nobody gets a mail twice and nobody is skipped.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from extract.digest import Digest, DigestItem, select_for_subscriber, snapshot
from extract.errors import DeliveryError
from extract.merge import Incident
from extract.preferences import Preferences, digest_due, matches
from flows.mail import mail_sender
from flows.settings import Settings
from flows.store import MailingItem, PendingDelivery, Store, SubscriberState
from flows.tokens import secret_key, signed_link
from reports.deliver import ConnectionLostError, build_message, message_id
from reports.render import CHART_CID, RenderedDigest, render_digest

__all__ = [
    "Delivered",
    "MailRenderer",
    "choose_alert",
    "choose_digest",
    "deliver_pending",
    "make_mailings",
]

logger = logging.getLogger(__name__)


@dataclass
class Delivered:
    """What one sending pass did."""

    sent: int = 0
    failed: list[str] = field(default_factory=list)
    where: str = ""
    stopped: str | None = None  # why the batch stopped early (server unreachable)


def _items(digest: Digest) -> list[MailingItem]:
    return [
        MailingItem(i.incident.id, i.kind, i.changes, snapshot(i.incident))
        for i in digest.items
        if i.incident.id is not None
    ]


def choose_digest(now: datetime) -> Callable[[SubscriberState, list[Incident]], list]:
    """Return the chooser of a subscriber's digest: what matches and is new or updated to
    them, when their cadence says a digest is due."""

    def choose(sub: SubscriberState, incidents: list[Incident]) -> list[MailingItem]:
        if not digest_due(sub.preferences, sub.last_digest, now):
            return []
        return _items(select_for_subscriber(incidents, sub.seen, sub.preferences, now, sub.since))

    return choose


def choose_alert(now: datetime) -> Callable[[SubscriberState, list[Incident]], list]:
    """Return the chooser of an immediate subscriber's alert: matching attacks new to them."""

    def choose(sub: SubscriberState, incidents: list[Incident]) -> list[MailingItem]:
        if sub.preferences.cadence != "immediate":
            return []
        chosen = select_for_subscriber(
            incidents, sub.seen, sub.preferences, now, sub.since, new_only=True
        )
        return _items(chosen)

    return choose


def _message_id(digest_id: int | None, delivery_id: int, email: str, kind: str) -> str:
    return message_id(digest_id, email, delivery_id, kind)


def make_mailings(store: Store, kind: str, now: datetime, digest_id: int | None = None) -> int:
    """Create the pending digests (kind="digest") or alerts ("alert") owed; return how many."""
    choose = choose_digest(now) if kind == "digest" else choose_alert(now)
    return store.create_mailings(kind, choose, _message_id, now, digest_id)


class MailRenderer:
    """Renders subscribers' mail; incidents, charts and the key are loaded once per pass."""

    def __init__(self, store: Store, settings: Settings, pending: list[PendingDelivery]) -> None:
        self.store = store
        self.settings = settings
        self.items = store.delivery_items([p.delivery_id for p in pending])
        wanted = sorted({i.incident_id for items in self.items.values() for i in items})
        self.incidents = {i.id: i for i in store.incidents(ids=wanted)} if wanted else {}
        self._all: list[Incident] | None = None
        self._charts: dict[tuple[Any, ...], bytes | None] = {}
        self._digests: dict[int, RenderedDigest] = {}
        self._secret: str | None = None

    def _chart(self, prefs: Preferences, created: datetime) -> bytes | None:
        from reports.chart import render_chart, weekly_counts

        key = (prefs.countries, prefs.sites, prefs.attack_types, prefs.min_severity)
        key += (created.date(),)
        if key not in self._charts:
            if self._all is None:
                self._all = self.store.digest_candidates()[0]
            mine = [i for i in self._all if matches(prefs, i)]
            counts = weekly_counts(mine, created.date())
            self._charts[key] = render_chart(counts) if counts.total else None
        return self._charts[key]

    def message(self, item: PendingDelivery) -> Any:
        """Return the email for one pending delivery."""
        items = self.items.get(item.delivery_id)
        if not items:
            # A delivery made before per-subscriber digests: the stored global edition.
            if item.digest_id not in self._digests:
                row = self.store.digest(item.digest_id)
                self._digests[item.digest_id] = RenderedDigest(row.subject, row.text, row.html)
            return build_message(
                self._digests[item.digest_id],
                sender=self.settings.mail_from,
                to=item.email,
                msg_id=item.message_id,
            )
        prefs = item.preferences
        created = (item.created or datetime.now(UTC)).astimezone(ZoneInfo(prefs.timezone))
        new, updated = [], []
        for entry in items:
            incident = self.incidents.get(entry.incident_id)
            if incident is None:
                continue
            shown = DigestItem(incident, entry.kind, entry.changes)
            (new if entry.kind == "new" else updated).append(shown)
        digest = Digest(created, tuple(new), tuple(updated))
        if self._secret is None:
            self._secret = secret_key(self.settings)
        links = {
            purpose: signed_link(self.settings, item.email, purpose, self._secret)
            for purpose in ("unsubscribe", "preferences")
        }
        html = prefs.format == "html"
        chart = self._chart(prefs, created) if html and item.kind == "digest" else None
        rendered = render_digest(
            digest,
            item.digest_id if item.kind == "digest" else None,
            kind=item.kind,
            links=links,
            chart=chart is not None,
            html=html,
        )
        return build_message(
            rendered,
            sender=self.settings.mail_from,
            to=item.email,
            msg_id=item.message_id,
            unsubscribe=links["unsubscribe"],
            images={CHART_CID: chart} if chart else None,
        )


def _label(item: PendingDelivery) -> int | str:
    if item.kind == "digest" and item.digest_id is not None:
        return item.digest_id
    return f"{item.kind}-d{item.delivery_id:06d}"


def deliver_pending(store: Store, settings: Settings, kinds: tuple[str, ...] = ()) -> Delivered:
    """Send every delivery still owed (or only those of ``kinds``), oldest first.

    The delivery log is what makes sending idempotent: a delivery is marked sent right after
    the server accepts it, so a killed run re-sends to nobody already served and skips no one.
    Each delivery is claimed before it is sent, so two runs at once never both send it. One
    SMTP connection serves the batch; if the server cannot be reached, the batch stops and
    the rest wait for the next run.
    """
    done = Delivered()
    pending = [p for p in store.pending_deliveries() if not kinds or p.kind in kinds]
    if not pending:
        done.where = mail_sender(settings).where
        return done
    sender = mail_sender(settings)
    done.where = sender.where
    with store.sending(), closing(sender):
        renderer = MailRenderer(store, settings, pending)
        for index, item in enumerate(pending):
            if not store.claim_delivery(item.delivery_id):
                continue  # another run is sending it, or has sent it
            try:
                message = renderer.message(item)
                sender.send(message, item.email, _label(item))
            except DeliveryError as exc:
                logger.warning("delivery of %s to %s: %s", _what(item), item.email, exc)
                store.mark_delivery(item.delivery_id, error=str(exc))
                done.failed.append(item.email)
                if isinstance(exc, ConnectionLostError):
                    left = len(pending) - index - 1
                    done.stopped = f"mail server unreachable; {left} left for the next run"
                    logger.warning("delivery stopped: %s", done.stopped)
                    break
                continue
            store.mark_delivery(item.delivery_id)
            done.sent += 1
    return done


def _what(item: PendingDelivery) -> str:
    if item.kind == "alert":
        return f"alert {item.delivery_id}"
    if item.digest_id is not None:
        return f"digest {item.digest_id}"
    return f"digest (delivery {item.delivery_id})"
