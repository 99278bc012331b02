"""Merging: one article's two days at one base are two incidents; unnamed bases by place."""

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


def test_a_month_report_does_not_bridge_two_days_nor_an_article_s_two_attacks() -> None:
    site = default_gazetteer().get("harir-air-base")
    month = Event(date(2023, 10, 1), date(2023, 10, 31), "month", False, site, "Harir")
    day = Event(date(2023, 10, 6), date(2023, 10, 6), "day", False, site, "Harir")
    later = Event(date(2023, 10, 28), date(2023, 10, 28), "day", True, site, "Harir")
    one = SourceRef("https://example.org/a", "a", datetime(2023, 10, 29, tzinfo=IRAQ))
    other = SourceRef("https://example.org/b", "b", datetime(2023, 10, 30, tzinfo=IRAQ))
    incident = Incident(1, (Report(day, one), Report(month, other)))
    # "in October" matched the 6 October attack; 28 October is still another one.
    assert match_incident(later, [incident], "https://example.org/c") is None
    # One article giving "earlier this month" and "on the 6th" at one base told two attacks.
    first = Incident(2, (Report(day, one),))
    assert match_incident(month, [first], one.url) is None
    assert match_incident(month, [first], other.url) is first


def test_unnamed_bases_merge_by_the_place_they_are_near_only() -> None:
    day = date(2023, 3, 23)
    near = Event(day, day, "day", True, None, "a coalition base near Hasakah", attack_type="drone")
    base_of = Event(
        day, day, "day", True, None, "a base of the coalition in the countryside of al-Hasakah"
    )
    elsewhere = Event(day, day, "day", True, None, "a coalition base near Deir ez-Zor")
    vague = Event(day, day, "day", True, None, "a coalition base")
    source = SourceRef("https://example.org/a", "a", datetime(2023, 3, 24, tzinfo=IRAQ))
    incident = Incident(1, (Report(near, source),))
    assert match_incident(base_of, [incident], "https://example.org/b") is incident
    assert match_incident(elsewhere, [incident], "https://example.org/c") is None
    assert match_incident(vague, [incident], "https://example.org/d") is None
