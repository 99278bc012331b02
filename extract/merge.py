"""Merge reports of the same attack into incidents, and say what changed (pure functions).

DOMAIN.md: events that share a site (or lie within 10 km), fall within a day of each other
(overnight attacks straddle midnight) and have compatible types are one incident. Every source
is kept with the spread of its figures; an incident's headline figures come from the latest
report that states them, so a revised toll updates the incident.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from extract.gazetteer import distance_km
from extract.model import STATUS_RANK, Casualties, Event, Munitions, Perpetrator

__all__ = [
    "MERGE_KM",
    "Incident",
    "Report",
    "SourceRef",
    "describe_changes",
    "events_match",
    "match_incident",
    "summarize_reports",
]

MERGE_KM = 10.0
APART_KM = 5.0
PRECISION_RANK = {"day": 0, "range": 1, "month": 2}
# Indirect fire is often reported as rockets by one outlet and mortars by another.
COMPATIBLE_TYPES = {frozenset({"rocket", "mortar"})}


@dataclass(frozen=True)
class SourceRef:
    """The article an event came from."""

    url: str
    title: str
    published: datetime


@dataclass(frozen=True)
class Report:
    """One article's account of an incident."""

    event: Event
    source: SourceRef


@dataclass(frozen=True)
class Incident:
    """One real attack and every report of it."""

    id: int | None
    reports: tuple[Report, ...]
    first_seen: datetime | None = None
    updated: datetime | None = None

    @property
    def summary(self) -> Event:
        """Return the merged event (see summarize_reports)."""
        return summarize_reports(self.reports)

    @property
    def newsworthy(self) -> bool:
        """Return True if any report gave it as a recent attack (recalled-only never is)."""
        return any(r.event.recent for r in self.reports)

    def to_dict(self) -> dict[str, Any]:
        """Return the incident in the JSON contract: E plus id, first_seen, updated, sources."""
        data = self.summary.to_dict()
        sources: dict[str, dict[str, str]] = {}
        for report in sorted(self.reports, key=lambda r: r.source.published):
            sources.setdefault(
                report.source.url,
                {
                    "url": report.source.url,
                    "title": report.source.title,
                    "published": report.source.published.isoformat(),
                },
            )
        data.update(
            id=self.id,
            first_seen=self.first_seen.isoformat() if self.first_seen else None,
            updated=self.updated.isoformat() if self.updated else None,
            sources=list(sources.values()),
            spread=figure_spread(self.reports),
        )
        return data


def _types_compatible(a: str, b: str) -> bool:
    if a == b or "unknown" in (a, b) or "mixed" in (a, b):
        return True
    return frozenset({a, b}) in COMPATIBLE_TYPES


def _places_match(a: Event, b: Event) -> bool:
    if a.site and b.site:
        return a.site.id == b.site.id or distance_km(a.site, b.site) <= MERGE_KM
    if a.site is None and b.site is None:
        if a.location_text.strip().lower() == b.location_text.strip().lower():
            return True
        # "a coalition base near Hasakah" and "a base of the coalition in al-Hasakah"
        return bool(_place_words(a.location_text) & _place_words(b.location_text))
    return False


# Capitalised words in a description of an unnamed site that name no place.
_NOT_PLACES = frozenset(
    [
        "the",
        "a",
        "an",
        "us",
        "u.s.",
        "american",
        "americans",
        "coalition",
        "international",
        "us-led",
        "iraq",
        "syria",
        "jordan",
        "kuwait",
        "qatar",
        "bahrain",
        "uae",
        "saudi",
        "arabia",
    ]
)


def _place_words(text: str) -> set[str]:
    """Return the place names in a description of an unnamed site ("... near Hasakah"):
    capitalised words, without "al-", other than the country's and the coalition's."""
    words = {w.lower().removeprefix("al-") for w in re.findall(r"\b(?:al-)?[A-Z][\w'-]+", text)}
    return {w for w in words if w not in _NOT_PLACES and len(w) > 2}


def events_match(a: Event, b: Event) -> bool:
    """Return True if two events can be the same attack: place, date within a day, type."""
    one_day = timedelta(days=1)
    dates_meet = a.date_start - one_day <= b.date_end and b.date_start - one_day <= a.date_end
    return dates_meet and _places_match(a, b) and _types_compatible(a.attack_type, b.attack_type)


def _fits(event: Event, incident: Incident) -> bool:
    """Return True if the event can report the incident. An incident some report dates to the
    day is matched on those days: a report saying only "in September" does not make an attack
    of 28 September one with that of 6 September."""
    reports = incident.reports
    if event.date_precision == "day":
        days = [r for r in reports if r.event.date_precision == "day"]
        reports = tuple(days) or reports
    return any(events_match(event, r.event) for r in reports)


def _match_score(event: Event, incident: Incident) -> tuple[int, ...]:
    best = incident.summary
    same_site = int(bool(event.site and best.site and event.site.id == best.site.id))
    exact_date = int(event.date_start <= best.date_end and best.date_start <= event.date_end)
    same_killed = int(event.killed.total is not None and event.killed.total == best.killed.total)
    return (same_site, exact_date, same_killed, -best.date_start.toordinal())


def _told_apart(event: Event, incident: Incident, source_url: str | None) -> bool:
    """Return True if the same article already reports this incident at a site more than
    APART_KM away, or at the same place on another day: one article naming two such sites
    or days is reporting two attacks. Closer sites (the US Embassy inside the Green Zone, the
    Baghdad airport complex) are one place."""
    if source_url is None or event.site is None:
        return False
    return any(
        r.source.url == source_url
        and r.event.site is not None
        and (
            distance_km(r.event.site, event.site) > APART_KM
            # The extractor joins an article's reports of one attack at one site: two events
            # there from one article are two attacks ("earlier this week" and "in September").
            or r.event.site.id == event.site.id
            # The same article giving two different days at one place reports two attacks
            # ("drones hit the base on Wednesday and again on Thursday").
            or (
                r.event.date_precision == event.date_precision == "day"
                and r.event.date_start != event.date_start
            )
        )
        for r in incident.reports
    )


def match_incident(
    event: Event, incidents: list[Incident], source_url: str | None = None
) -> Incident | None:
    """Return the incident this event reports (best match), or None if it is a new one.

    ``source_url`` is the article the event comes from (see _told_apart).
    """
    candidates = [i for i in incidents if _fits(event, i) and not _told_apart(event, i, source_url)]
    if not candidates:
        return None
    return max(candidates, key=lambda i: _match_score(event, i))


def _latest(reports: list[Report], value) -> Any:
    """Return value(report) from the most recently published report where it is not None."""
    for report in sorted(reports, key=lambda r: r.source.published, reverse=True):
        found = value(report)
        if found is not None:
            return found
    return None


def summarize_reports(reports: tuple[Report, ...] | list[Report]) -> Event:
    """Return one event that sums up every report of an incident."""
    reports = list(reports)
    if not reports:
        raise ValueError("an incident needs at least one report")
    finest = min(PRECISION_RANK[r.event.date_precision] for r in reports)
    dated = [r for r in reports if PRECISION_RANK[r.event.date_precision] == finest]
    counts = Counter((r.event.date_start, r.event.date_end) for r in dated)
    (date_start, date_end), _ = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    sites = Counter(r.event.site.id for r in reports if r.event.site)
    site = None
    if sites:
        site_id = sites.most_common(1)[0][0]
        site = next(r.event.site for r in reports if r.event.site and r.event.site.id == site_id)
    types = Counter(r.event.attack_type for r in reports if r.event.attack_type != "unknown")
    attack_type = types.most_common(1)[0][0] if types else "unknown"
    perpetrator = max(
        (r.event.perpetrator for r in sorted(reports, key=lambda r: r.source.published)),
        key=lambda p: (STATUS_RANK[p.status], p.name is not None),
        default=Perpetrator(),
    )
    evidence: list[str] = []
    for report in sorted(reports, key=lambda r: r.source.published):
        evidence.extend(s for s in report.event.evidence if s not in evidence)
    location = next((r.event.location_text for r in reports if r.event.site == site), "")
    return Event(
        date_start=date_start,
        date_end=date_end,
        date_precision=dated[0].event.date_precision,
        recent=any(r.event.recent for r in reports),
        site=site,
        location_text=location or reports[0].event.location_text,
        attack_type=attack_type,
        munitions=_latest(
            reports, lambda r: r.event.munitions if r.event.munitions != Munitions() else None
        )
        or Munitions(),
        outcome=_latest(
            reports, lambda r: r.event.outcome if r.event.outcome != "unknown" else None
        )
        or "unknown",
        killed=_casualties(reports, "killed"),
        wounded=_casualties(reports, "wounded"),
        perpetrator=perpetrator,
        evidence=tuple(evidence),
    )


def _casualties(reports: list[Report], kind: str) -> Casualties:
    total = _latest(reports, lambda r: getattr(r.event, kind).total)
    us = _latest(reports, lambda r: getattr(r.event, kind).us)
    return Casualties(total, us)


def figure_spread(reports: tuple[Report, ...] | list[Report]) -> dict[str, list[int]]:
    """Return the lowest and highest figure reported for killed, wounded and munitions."""
    spread: dict[str, list[int]] = {}
    for kind in ("killed", "wounded"):
        values = [getattr(r.event, kind).total for r in reports]
        values = [v for v in values if v is not None]
        if values:
            spread[kind] = [min(values), max(values)]
    counts = [v for r in reports for v in (r.event.munitions.min, r.event.munitions.max) if v]
    if counts:
        spread["munitions"] = [min(counts), max(counts)]
    return spread


def _figure(value: Any) -> str:
    return "unknown" if value is None else str(value)


def describe_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Return what changed between two incident snapshots, one short phrase each."""
    changes: list[str] = []
    for kind in ("killed", "wounded"):
        for part, label in (("total", kind), ("us", f"{kind} (US)")):
            before, after = old.get(kind, {}).get(part), new.get(kind, {}).get(part)
            if before != after and after is not None:
                changes.append(f"{label}: {_figure(before)} → {after}")
    if old.get("munitions") != new.get("munitions") and new["munitions"]["min"] is not None:
        changes.append("munitions revised")
    if old.get("attack_type") != new.get("attack_type") and new.get("attack_type") != "unknown":
        changes.append(f"type: {old.get('attack_type')} → {new.get('attack_type')}")
    if old.get("outcome") != new.get("outcome") and new.get("outcome") != "unknown":
        changes.append(f"outcome: {old.get('outcome')} → {new.get('outcome')}")
    before, after = old.get("perpetrator", {}), new.get("perpetrator", {})
    if before != after and after.get("status") != "unknown":
        changes.append(f"perpetrator: {after.get('name') or 'unnamed'} ({after.get('status')})")
    if (old.get("date_start"), old.get("date_end")) != (new.get("date_start"), new.get("date_end")):
        changes.append(f"date: {old.get('date_start')} → {new.get('date_start')}")
    return changes
