"""Domain values: sites, events and their parts (frozen dataclasses, no I/O)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

__all__ = [
    "ATTACK_TYPES",
    "OUTCOMES",
    "PERPETRATOR_STATUSES",
    "PRECISIONS",
    "STATUS_RANK",
    "Casualties",
    "Event",
    "Munitions",
    "Perpetrator",
    "Presence",
    "Site",
    "event_from_dict",
]

ATTACK_TYPES = (
    "rocket",
    "mortar",
    "drone",
    "ballistic_missile",
    "cruise_missile",
    "ied",
    "small_arms",
    "mixed",
    "unknown",
)
OUTCOMES = ("impact", "intercepted", "fell_short", "unknown")
PERPETRATOR_STATUSES = ("claimed", "blamed", "suspected", "unknown")
# How firm an attribution is: a claim beats blame beats suspicion.
STATUS_RANK = {"unknown": 0, "suspected": 1, "blamed": 2, "claimed": 3}
PRECISIONS = ("day", "range", "month")


@dataclass(frozen=True)
class Presence:
    """A period with US personnel at a site; ``end`` None means still there."""

    start: date
    end: date | None

    def overlaps(self, first: date, last: date) -> bool:
        """Return True if the period shares a day with first..last."""
        return self.start <= last and (self.end is None or self.end >= first)


@dataclass(frozen=True)
class Site:
    """A gazetteer entry: a place that hosts (or hosted) US personnel."""

    id: str
    name: str
    kind: str
    country: str
    lat: float
    lon: float
    aliases: tuple[str, ...] = ()
    geo_precision: str = "exact"
    us_presence: tuple[Presence, ...] = ()
    town: str | None = None
    province: str | None = None
    source: str = ""

    def hosted_us(self, first: date, last: date) -> bool:
        """Return True if US personnel were at the site on any day of first..last."""
        return any(p.overlaps(first, last) for p in self.us_presence)

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON contract's site object."""
        return {
            "id": self.id,
            "name": self.name,
            "country": self.country,
            "lat": self.lat,
            "lon": self.lon,
        }


@dataclass(frozen=True)
class Munitions:
    """How many rockets, drones or missiles: a range, None where not reported."""

    min: int | None = None
    max: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        """Return the JSON contract's munitions object."""
        return {"min": self.min, "max": self.max}


@dataclass(frozen=True)
class Casualties:
    """Killed or wounded: total and US share; None is unreported, 0 is reported none."""

    total: int | None = None
    us: int | None = None

    def to_dict(self) -> dict[str, int | None]:
        """Return the JSON contract's casualty object."""
        return {"total": self.total, "us": self.us}


@dataclass(frozen=True)
class Perpetrator:
    """Who did it and how sure the text is: claimed, blamed (by whom), suspected."""

    name: str | None = None
    status: str = "unknown"
    by: str | None = None

    def to_dict(self) -> dict[str, str | None]:
        """Return the JSON contract's perpetrator object."""
        return {"name": self.name, "status": self.status}


@dataclass(frozen=True)
class Event:
    """One attack on a US-hosting site as one article reports it."""

    date_start: date
    date_end: date
    date_precision: str
    recent: bool
    site: Site | None
    location_text: str
    attack_type: str = "unknown"
    munitions: Munitions = field(default_factory=Munitions)
    outcome: str = "unknown"
    killed: Casualties = field(default_factory=Casualties)
    wounded: Casualties = field(default_factory=Casualties)
    perpetrator: Perpetrator = field(default_factory=Perpetrator)
    evidence: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the event as the stable JSON contract's E object."""
        return {
            "date_start": self.date_start.isoformat(),
            "date_end": self.date_end.isoformat(),
            "date_precision": self.date_precision,
            "recent": self.recent,
            "site": self.site.to_dict() if self.site else None,
            "location_text": self.location_text,
            "attack_type": self.attack_type,
            "munitions": self.munitions.to_dict(),
            "outcome": self.outcome,
            "killed": self.killed.to_dict(),
            "wounded": self.wounded.to_dict(),
            "perpetrator": self.perpetrator.to_dict(),
            "evidence": list(self.evidence),
        }


def event_from_dict(data: dict[str, Any], site: Site | None = None) -> Event:
    """Return an Event from its JSON contract form; ``site`` replaces the short site object."""
    if site is None and data.get("site"):
        raw = data["site"]
        site = Site(raw["id"], raw["name"], "unknown", raw["country"], raw["lat"], raw["lon"])
    return Event(
        date_start=date.fromisoformat(data["date_start"]),
        date_end=date.fromisoformat(data["date_end"]),
        date_precision=data["date_precision"],
        recent=bool(data["recent"]),
        site=site,
        location_text=data.get("location_text", ""),
        attack_type=data.get("attack_type", "unknown"),
        munitions=Munitions(**data.get("munitions", {})),
        outcome=data.get("outcome", "unknown"),
        killed=Casualties(**data.get("killed", {})),
        wounded=Casualties(**data.get("wounded", {})),
        perpetrator=Perpetrator(**data.get("perpetrator", {})),
        evidence=tuple(data.get("evidence", ())),
    )
