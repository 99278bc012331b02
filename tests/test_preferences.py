"""extract.preferences: checked values, round trips, matching incidents, cadence (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from extract.errors import ConfigError
from extract.gazetteer import default_gazetteer
from extract.merge import Incident, Report, SourceRef
from extract.model import Casualties, Event
from extract.preferences import (
    CADENCES,
    FORMATS,
    SEVERITIES,
    Preferences,
    describe_preferences,
    digest_due,
    make_preferences,
    matches,
)

GAZETTEER = default_gazetteer()
UNREPORTED = Casualties()


def incident(
    site_id: str | None = "ain-al-asad",
    attack_type: str = "rocket",
    killed: Casualties = UNREPORTED,
    wounded: Casualties = UNREPORTED,
) -> Incident:
    event = Event(
        date_start=date(2021, 3, 3),
        date_end=date(2021, 3, 3),
        date_precision="day",
        recent=True,
        site=GAZETTEER.get(site_id) if site_id else None,
        location_text="somewhere",
        attack_type=attack_type,
        killed=killed,
        wounded=wounded,
    )
    source = SourceRef("https://wire.example/1", "Rockets", datetime(2021, 3, 3, tzinfo=UTC))
    return Incident(1, (Report(event, source),))


def test_defaults_are_everything_daily_utc_html() -> None:
    prefs = Preferences()
    assert (prefs.countries, prefs.sites, prefs.attack_types) == ((), (), ())
    assert (prefs.min_severity, prefs.cadence, prefs.timezone, prefs.format) == (
        "any",
        "daily",
        "UTC",
        "html",
    )
    assert prefs.validate() is prefs
    assert SEVERITIES == ("any", "casualties", "us_casualties")
    assert CADENCES == ("immediate", "daily", "weekly")
    assert FORMATS == ("html", "text")


def test_make_preferences_normalises_and_round_trips() -> None:
    prefs = make_preferences(
        countries="iq, sy",
        sites=["Ain-Al-Asad", "tower-22"],
        attack_types=["drone", "ballistic-missile", "drone"],
        min_severity="US_casualties",
        cadence="weekly",
        timezone="Asia/Baghdad",
        format="text",
    )
    assert prefs == Preferences(
        countries=("IQ", "SY"),
        sites=("ain-al-asad", "tower-22"),
        attack_types=("ballistic_missile", "drone"),
        min_severity="us_casualties",
        cadence="weekly",
        timezone="Asia/Baghdad",
        format="text",
    )
    data = prefs.to_dict()
    assert data["countries"] == ["IQ", "SY"]
    assert Preferences.from_dict(data) == prefs
    assert Preferences.from_dict(None) == Preferences()
    assert make_preferences(countries=["all"]) == Preferences()
    assert describe_preferences(Preferences())["countries"] == "all"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"countries": ["XX"]}, "country: unknown code 'XX'"),
        ({"sites": ["camp-nowhere"]}, "site: unknown site id 'camp-nowhere'"),
        ({"attack_types": ["laser"]}, "attack type: unknown 'laser'"),
        ({"min_severity": "some"}, "severity: 'some' is not one of any, casualties, us_casualties"),
        ({"cadence": "hourly"}, "cadence: 'hourly' is not one of immediate, daily, weekly"),
        ({"timezone": "Mars/Olympus"}, "timezone: unknown 'Mars/Olympus'"),
        ({"format": "pdf"}, "format: 'pdf' is not one of html, text"),
        ({"colour": "red"}, "unknown preference 'colour'"),
    ],
)
def test_bad_values_are_one_line_config_errors(raw: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        make_preferences(**raw)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_matches_filters_by_country_site_type() -> None:
    asad = incident("ain-al-asad", "rocket")
    assert matches(Preferences(), asad)
    assert matches(Preferences(countries=("IQ",)), asad)
    assert not matches(Preferences(countries=("SY",)), asad)
    assert matches(Preferences(sites=("ain-al-asad",)), asad)
    assert not matches(Preferences(sites=("tower-22",)), asad)
    assert matches(Preferences(attack_types=("rocket", "drone")), asad)
    assert not matches(Preferences(attack_types=("drone",)), asad)
    # An attack on a place not in the gazetteer has no country or site to match.
    unplaced = incident(None)
    assert matches(Preferences(), unplaced)
    assert not matches(Preferences(countries=("IQ",)), unplaced)


def test_matches_severity_treats_unreported_as_unknown_not_zero() -> None:
    unreported = incident()
    none_hurt = incident(killed=Casualties(0, 0), wounded=Casualties(0, 0))
    local_hurt = incident(wounded=Casualties(3, None))
    us_hurt = incident(killed=Casualties(1, 1))
    casualties = Preferences(min_severity="casualties")
    us = Preferences(min_severity="us_casualties")
    assert [matches(casualties, i) for i in (unreported, none_hurt, local_hurt, us_hurt)] == [
        False,
        False,
        True,
        True,
    ]
    assert [matches(us, i) for i in (unreported, none_hurt, local_hurt, us_hurt)] == [
        False,
        False,
        False,
        True,
    ]


def test_daily_digest_at_most_once_per_local_day() -> None:
    baghdad = Preferences(timezone="Asia/Baghdad")
    last = datetime(2021, 3, 3, 20, 0, tzinfo=UTC)  # 23:00 on 3 March in Baghdad
    assert digest_due(baghdad, None, last)
    assert not digest_due(baghdad, last, datetime(2021, 3, 3, 20, 59, tzinfo=UTC))
    assert digest_due(baghdad, last, datetime(2021, 3, 3, 21, 0, tzinfo=UTC))  # midnight there
    assert not digest_due(Preferences(), last, datetime(2021, 3, 3, 21, 0, tzinfo=UTC))


def test_weekly_digest_after_seven_local_days() -> None:
    weekly = Preferences(cadence="weekly")
    last = datetime(2021, 3, 3, 7, 0, tzinfo=UTC)
    assert not digest_due(weekly, last, datetime(2021, 3, 9, 23, 0, tzinfo=UTC))
    assert digest_due(weekly, last, datetime(2021, 3, 10, 7, 0, tzinfo=UTC))
