"""What a subscriber wants to hear about, how often and in which form (pure).

An empty filter means "all": ``Preferences()`` is every newsworthy incident, daily, in UTC, as
HTML. Countries are ISO 3166 alpha-2 codes as in the gazetteer, sites are gazetteer ids, and
attack types come from the Event vocabulary (extract.model.ATTACK_TYPES).

Severity: "casualties" is an incident with at least one reported killed or wounded person;
"us_casualties" one with at least one reported US killed or wounded. An unreported figure is
unknown, never 0, so it does not meet either level (DOMAIN.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from extract.errors import ConfigError
from extract.gazetteer import Gazetteer, default_gazetteer
from extract.merge import Incident
from extract.model import ATTACK_TYPES

__all__ = [
    "CADENCES",
    "FORMATS",
    "SEVERITIES",
    "Preferences",
    "describe_preferences",
    "digest_due",
    "make_preferences",
    "matches",
]

SEVERITIES = ("any", "casualties", "us_casualties")
CADENCES = ("immediate", "daily", "weekly")
FORMATS = ("html", "text")
# Weekly subscribers get a digest when this many days have passed since their last one.
WEEK_DAYS = 7


@dataclass(frozen=True)
class Preferences:
    """A subscriber's filters (empty tuple = all), severity, cadence, timezone and format."""

    countries: tuple[str, ...] = ()
    sites: tuple[str, ...] = ()
    attack_types: tuple[str, ...] = ()
    min_severity: str = "any"
    cadence: str = "daily"
    timezone: str = "UTC"
    format: str = "html"

    def validate(self, gazetteer: Gazetteer | None = None) -> Preferences:
        """Return self if every value is known; ConfigError with a one-line message if not."""
        gazetteer = gazetteer or default_gazetteer()
        countries = {site.country for site in gazetteer}
        for code in self.countries:
            if code not in countries:
                raise ConfigError(
                    f"country: unknown code {code!r} (use one of {', '.join(sorted(countries))})"
                )
        for site_id in self.sites:
            if gazetteer.get(site_id) is None:
                raise ConfigError(
                    f"site: unknown site id {site_id!r} (see `basewatch sites` for the ids)"
                )
        for attack_type in self.attack_types:
            if attack_type not in ATTACK_TYPES:
                raise ConfigError(
                    f"attack type: unknown {attack_type!r} (use one of {', '.join(ATTACK_TYPES)})"
                )
        _check_choice("severity", self.min_severity, SEVERITIES)
        _check_choice("cadence", self.cadence, CADENCES)
        _check_choice("format", self.format, FORMATS)
        _zone(self.timezone)
        return self

    def to_dict(self) -> dict[str, Any]:
        """Return the preferences as plain JSON values (lists for the filters)."""
        data = asdict(self)
        for key in ("countries", "sites", "attack_types"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Preferences:
        """Return preferences from to_dict()'s output; missing keys take their defaults.

        Values are normalised but not checked against the gazetteer (stored preferences stay
        readable when a site leaves it); call validate() on input from users.
        """
        if not data:
            return cls()
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return _normalise(**known)


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name}: {value!r} is not one of {', '.join(choices)}")


def _zone(name: str) -> Any:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"timezone: unknown {name!r} (use an IANA name like Asia/Baghdad)"
        ) from None


def _values(raw: Any) -> list[str]:
    """Return a filter's values from a list, tuple or comma-separated string."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = raw.split(",")
    if not isinstance(raw, Iterable):
        raise ConfigError(f"expected a list of values, got {raw!r}")
    return [str(v).strip() for v in raw if str(v).strip()]


def _normalise(**raw: Any) -> Preferences:
    unknown = set(raw) - set(Preferences.__dataclass_fields__)
    if unknown:
        raise ConfigError(f"unknown preference {min(unknown)!r}")
    default = Preferences()
    # "all" clears a filter (empty = all), so a CLI user can widen it again.
    countries = [v.upper() for v in _values(raw.get("countries")) if v.lower() != "all"]
    sites = [v.lower() for v in _values(raw.get("sites")) if v.lower() != "all"]
    types = [v.lower().replace("-", "_") for v in _values(raw.get("attack_types"))]
    return Preferences(
        countries=tuple(sorted(set(countries))),
        sites=tuple(sorted(set(sites))),
        attack_types=tuple(sorted({t for t in types if t != "all"})),
        min_severity=str(raw.get("min_severity") or default.min_severity).strip().lower(),
        cadence=str(raw.get("cadence") or default.cadence).strip().lower(),
        timezone=str(raw.get("timezone") or default.timezone).strip(),
        format=str(raw.get("format") or default.format).strip().lower(),
    )


def make_preferences(gazetteer: Gazetteer | None = None, **raw: Any) -> Preferences:
    """Return checked preferences from raw values (lists or comma-separated strings).

    ``make_preferences(countries="iq,sy", attack_types=["drone"], cadence="weekly")`` gives
    ``Preferences(countries=("IQ", "SY"), attack_types=("drone",), cadence="weekly")``.
    """
    return _normalise(**raw).validate(gazetteer)


def _severe(incident: Incident, level: str) -> bool:
    if level == "any":
        return True
    summary = incident.summary
    part = "us" if level == "us_casualties" else "total"
    figures = [getattr(summary.killed, part), getattr(summary.wounded, part)]
    return any(f is not None and f > 0 for f in figures)


def matches(prefs: Preferences, incident: Incident) -> bool:
    """Return True if the incident passes every filter of the preferences."""
    summary = incident.summary
    site = summary.site
    if prefs.countries and (site is None or site.country not in prefs.countries):
        return False
    if prefs.sites and (site is None or site.id not in prefs.sites):
        return False
    if prefs.attack_types and summary.attack_type not in prefs.attack_types:
        return False
    return _severe(incident, prefs.min_severity)


def digest_due(prefs: Preferences, last_digest: datetime | None, now: datetime) -> bool:
    """Return True if a digest may go to this subscriber now.

    Daily (and immediate, whose digest carries updates and what no alert told) subscribers get
    at most one per local day in their timezone; weekly ones one every WEEK_DAYS local days.
    """
    if last_digest is None:
        return True
    zone = _zone(prefs.timezone)
    last_day, today = last_digest.astimezone(zone).date(), now.astimezone(zone).date()
    if prefs.cadence == "weekly":
        return today - last_day >= timedelta(days=WEEK_DAYS)
    return today > last_day


def describe_preferences(prefs: Preferences) -> dict[str, str]:
    """Return the preferences as short display strings ("all" for an empty filter)."""
    return {
        "countries": ",".join(prefs.countries) or "all",
        "sites": ",".join(prefs.sites) or "all",
        "types": ",".join(prefs.attack_types) or "all",
        "severity": prefs.min_severity,
        "cadence": prefs.cadence,
        "timezone": prefs.timezone,
        "format": prefs.format,
    }
