"""What a digest shows: new incidents and updated ones with what changed (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from extract.merge import Incident, describe_changes
from extract.preferences import Preferences, matches

__all__ = ["Digest", "DigestItem", "select_digest", "select_for_subscriber", "snapshot"]


@dataclass(frozen=True)
class DigestItem:
    """One incident in a digest; ``changes`` says what changed for an update."""

    incident: Incident
    kind: str  # "new" | "updated"
    changes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Digest:
    """A digest: new attacks first, then updates."""

    created: datetime
    new: tuple[DigestItem, ...]
    updated: tuple[DigestItem, ...]

    @property
    def empty(self) -> bool:
        """Return True when there is nothing to tell."""
        return not self.new and not self.updated

    @property
    def items(self) -> tuple[DigestItem, ...]:
        """Return new items, then updated ones."""
        return self.new + self.updated


def snapshot(incident: Incident) -> dict[str, Any]:
    """Return the part of an incident a digest reader saw (compared for "what changed")."""
    data = incident.to_dict()
    for volatile in ("updated", "first_seen", "evidence", "spread"):
        data.pop(volatile, None)
    data["sources"] = sorted(s["url"] for s in data["sources"])
    return data


def select_digest(
    incidents: list[Incident], seen: dict[int, dict[str, Any]], created: datetime
) -> Digest:
    """Return the digest since the last one.

    ``incidents`` are the newsworthy incidents (reported as recent at least once); ``seen``
    maps incident id -> snapshot from the last digest that showed it. An incident never shown
    is new; a shown one whose figures changed is updated; recalled-only incidents never appear.
    """
    new, updated = [], []
    for incident in sorted(incidents, key=lambda i: (i.summary.date_start, i.id or 0)):
        if not incident.newsworthy or incident.id is None:
            continue
        before = seen.get(incident.id)
        if before is None:
            new.append(DigestItem(incident, "new"))
            continue
        changes = describe_changes(before, snapshot(incident))
        if changes:
            updated.append(DigestItem(incident, "updated", tuple(changes)))
    # Newest attacks first: subscribers want what just happened at the top.
    new.sort(key=lambda item: item.incident.summary.date_start, reverse=True)
    return Digest(created, tuple(new), tuple(updated))


def select_for_subscriber(
    incidents: list[Incident],
    seen: dict[int, dict[str, Any]],
    prefs: Preferences,
    created: datetime,
    since: datetime | None = None,
    new_only: bool = False,
) -> Digest:
    """Return one subscriber's digest (or, with ``new_only``, alert): what matches their
    preferences and is new or updated since what *they* were last shown (``seen``).

    An incident they were never shown counts only if it was first reported after they
    subscribed (``since``): a new subscriber is not sent the archive as new, nor an old attack
    that a later article merely recalls.
    """
    eligible = [
        i
        for i in incidents
        if matches(prefs, i)
        and (i.id in seen or since is None or i.first_seen is None or i.first_seen >= since)
    ]
    chosen = select_digest(eligible, seen, created)
    if new_only:
        return Digest(created, chosen.new, ())
    return chosen
