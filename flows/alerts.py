"""Immediate alerts: after an ingest run, each immediate subscriber hears of matching new attacks."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from flows.mailings import deliver_pending, make_mailings
from flows.settings import Settings
from flows.store import Store

__all__ = ["AlertReport", "send_alerts"]


@dataclass
class AlertReport:
    """What the alert step of an ingest run did."""

    made: int = 0
    sent: int = 0
    failed: list[str] = field(default_factory=list)


def send_alerts(
    store: Store, settings: Settings, now: datetime | None = None, send: bool = True
) -> AlertReport:
    """Make the alerts owed to immediate subscribers and send the alerts pending.

    An alerted attack is recorded as shown to that subscriber in the same transaction, so it is
    not "new" again in their digest (a later update still is an update).
    """
    report = AlertReport()
    if not any(p.cadence == "immediate" for _, p in store.subscriber_list()):
        return report
    report.made = make_mailings(store, "alert", now or datetime.now(UTC))
    if send:
        done = deliver_pending(store, settings, kinds=("alert",))
        report.sent, report.failed = done.sent, done.failed
    return report
