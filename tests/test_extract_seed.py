"""The seed article: exactly the three attacks its sidecar names, and the CLI's JSON contract."""

from __future__ import annotations

import calendar
import json
import re
from datetime import date, datetime
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import SEED_NAME, SEEDS

from extract.events import extract_events
from extract.gazetteer import default_gazetteer
from extract.model import Event
from flows.cli import main

PUBLISHED = datetime.fromisoformat("2020-06-14T12:00:00+03:00")
SEED_TEXT = SEEDS / f"{SEED_NAME}.txt"
SIDECAR = yaml.safe_load((SEEDS / f"{SEED_NAME}.yaml").read_text(encoding="utf-8"))
EVENT_KEYS = {
    "date_start",
    "date_end",
    "date_precision",
    "recent",
    "site",
    "location_text",
    "attack_type",
    "munitions",
    "outcome",
    "killed",
    "wounded",
    "perpetrator",
    "evidence",
}


def _site_id(name: str) -> str:
    """Return the gazetteer id of a sidecar site name ("K-1 Air Base (Kirkuk)" -> k1-air-base)."""
    gazetteer = default_gazetteer()
    site = gazetteer.by_name(name) or gazetteer.by_name(re.sub(r"\s*\([^)]*\)\s*$", "", name))
    assert site is not None, f"sidecar site {name!r} is not in the gazetteer"
    return site.id


def _span(value: Any) -> tuple[date, date, str]:
    """Return (start, end, precision) of a sidecar date: YYYY-MM-DD is a day, YYYY-MM a month."""
    if isinstance(value, date):
        return value, value, "day"
    year, month = (int(part) for part in str(value).split("-"))
    last = calendar.monthrange(year, month)[1]
    return date(year, month, 1), date(year, month, last), "month"


@pytest.fixture(scope="module")
def seed_events() -> list[Event]:
    return extract_events(SEED_TEXT.read_text(encoding="utf-8"), PUBLISHED)


def test_seed_gives_exactly_the_three_expected_events(seed_events: list[Event]) -> None:
    expected = sorted((_site_id(e["site"]), *_span(e["date"])) for e in SIDECAR["expected_events"])
    found = sorted(
        (e.site.id if e.site else None, e.date_start, e.date_end, e.date_precision)
        for e in seed_events
    )
    assert found == expected


@pytest.mark.parametrize(
    "index",
    range(len(SIDECAR["expected_events"])),
    ids=[f"{e['site']} {e['date']}" for e in SIDECAR["expected_events"]],
)
def test_seed_event_matches_sidecar(seed_events: list[Event], index: int) -> None:
    want = SIDECAR["expected_events"][index]
    start, end, precision = _span(want["date"])
    matches = [
        e
        for e in seed_events
        if e.site
        and e.site.id == _site_id(want["site"])
        and (e.date_start, e.date_end) == (start, end)
    ]
    assert len(matches) == 1, [e.to_dict() for e in seed_events]
    event = matches[0]
    assert event.date_precision == precision
    assert event.recent is want["recent"]
    assert event.attack_type == want["attack_type"]
    if "munitions" in want:
        assert event.munitions.to_dict() == want["munitions"]
    assert event.killed.total == want["killed"]
    if "wounded" in want:
        assert event.wounded.total == want["wounded"]
    if "perpetrator_status" in want:
        assert event.perpetrator.status == want["perpetrator_status"]
    assert event.evidence, "every event keeps the sentences it came from"


def test_us_drone_strike_of_3_january_is_not_an_event(seed_events: list[Event]) -> None:
    soleimani = date(2020, 1, 3)
    assert [e.to_dict() for e in seed_events if e.date_start <= soleimani <= e.date_end] == []


def test_only_the_saturday_attack_is_recent(seed_events: list[Event]) -> None:
    assert [(e.site.id, e.date_start) for e in seed_events if e.recent] == [
        ("camp-taji", date(2020, 6, 13))
    ]


def test_cli_extract_json_has_the_event_contract() -> None:
    result = CliRunner().invoke(
        main, ["extract", str(SEED_TEXT), "--published", PUBLISHED.isoformat(), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["events"]
    assert len(data["events"]) == 3
    for event in data["events"]:
        assert set(event) == EVENT_KEYS
        assert event["date_precision"] in ("day", "range", "month")
        assert isinstance(event["recent"], bool)
        assert event["site"] is None or set(event["site"]) == {
            "id",
            "name",
            "country",
            "lat",
            "lon",
        }
        assert set(event["munitions"]) == {"min", "max"}
        assert set(event["killed"]) == {"total", "us"}
        assert set(event["wounded"]) == {"total", "us"}
        assert set(event["perpetrator"]) == {"name", "status"}
        assert isinstance(event["evidence"], list) and event["evidence"]
    saturday = [e for e in data["events"] if e["recent"]]
    assert [(e["site"]["id"], e["date_start"], e["site"]["country"]) for e in saturday] == [
        ("camp-taji", "2020-06-13", "IQ")
    ]


def test_cli_extract_table_lists_three_rows() -> None:
    result = CliRunner().invoke(
        main, ["extract", str(SEED_TEXT), "--published", PUBLISHED.isoformat()]
    )
    assert result.exit_code == 0, result.output
    rows = result.stdout.strip().splitlines()[2:]  # header and rule first
    assert len(rows) == 3
    assert sum("Camp Taji" in row for row in rows) == 2
    assert sum("K-1 Air Base" in row for row in rows) == 1
