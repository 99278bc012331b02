"""The site gazetteer: every entry complete, names unambiguous, sources public."""

import re
from importlib import resources

import yaml

from extract.gazetteer import REQUIRED_KEYS, default_gazetteer, parse_gazetteer


def _entries() -> list[dict]:
    text = resources.files("extract").joinpath("data/sites.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def test_at_least_sixty_sites_with_required_fields() -> None:
    entries = _entries()
    assert len(entries) >= 60
    for entry in entries:
        for key in REQUIRED_KEYS:
            assert entry.get(key) not in (None, "", []), f"{entry.get('id')}: {key} missing"
        assert re.fullmatch(r"[A-Z]{2}", entry["country"]), entry["id"]
        assert -90 <= entry["lat"] <= 90 and -180 <= entry["lon"] <= 180, entry["id"]
        assert entry["source"].startswith(("http://", "https://")), entry["id"]
        assert entry["us_presence"], f"{entry['id']}: no period of US presence"


def test_ids_names_and_aliases_are_unique() -> None:
    seen: dict[str, str] = {}
    ids = [e["id"] for e in _entries()]
    assert len(ids) == len(set(ids))
    for entry in _entries():
        for name in [entry["name"], *(entry.get("aliases") or [])]:
            key = name.lower()
            assert seen.get(key, entry["id"]) == entry["id"], f"{name!r} names two sites"
            seen[key] = entry["id"]


def test_aliases_are_found_in_text() -> None:
    gazetteer = default_gazetteer()
    found = gazetteer.find_sites(
        "Rockets hit Ain al-Asad and the Taji base; a drone struck Tower 22."
    )
    assert [m.site.id for m in found] == ["ain-al-asad", "camp-taji", "tower-22"]


def test_presence_period_decides_hosting() -> None:
    taji = default_gazetteer().get("camp-taji")
    from datetime import date

    assert taji.hosted_us(date(2020, 6, 13), date(2020, 6, 13))
    assert not taji.hosted_us(date(2021, 6, 1), date(2021, 6, 1))


def test_missing_field_is_reported() -> None:
    import pytest

    with pytest.raises(ValueError, match="missing"):
        parse_gazetteer("- {id: x, name: X}")
