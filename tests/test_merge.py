"""Merging: one article's two days at one base are two incidents."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from extract.gazetteer import default_gazetteer
from extract.merge import Incident, Report, SourceRef, match_incident
from extract.model import Event

IRAQ = timezone(timedelta(hours=3))


def _event(day: date) -> Event:
    site = default_gazetteer().get("harir-air-base")
    return Event(day, day, "day", True, site, "Harir", attack_type="drone")


def test_same_article_two_days_at_one_base_are_two_incidents() -> None:
    source = SourceRef(
        "https://example.org/harir", "Harir hit twice", datetime(2023, 10, 27, tzinfo=IRAQ)
    )
    first = Incident(1, (Report(_event(date(2023, 10, 25)), source),))
    assert match_incident(_event(date(2023, 10, 26)), [first], source.url) is None
    # Another article's report of the next day can still be the same overnight attack.
    assert match_incident(_event(date(2023, 10, 26)), [first], "https://example.org/other") is first
