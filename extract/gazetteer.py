"""The site gazetteer: parse it from YAML text and find site mentions in sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from math import asin, cos, radians, sin, sqrt
from typing import Any

import yaml

from extract.model import Presence, Site

__all__ = ["Gazetteer", "SiteMatch", "default_gazetteer", "distance_km", "parse_gazetteer"]

REQUIRED_KEYS = ("id", "name", "kind", "country", "lat", "lon", "us_presence", "source")
# "the attack of 15 February on Erbil", "the barrage last week on Erbil": a date between.
ATTACK_DATE = (
    r"(?:\s+(?:of|on|last|late|early)(?:\s+(?:\d{1,2}(?:st|nd|rd|th)?|January|February|March|"
    r"April|May|June|July|August|September|October|November|December|Monday|Tuesday|Wednesday|"
    r"Thursday|Friday|Saturday|Sunday|week|month|night|\d{4}),?){1,3})?"
)
# Words that make a town name stand for the base there: "a base near Kirkuk".
BASE_NEAR_TOWN = r"(?:base|air\s?base|airfield|airport|garrison|outpost|camp|facility)"
BASE_KINDS = frozenset({"base", "air_base", "airport", "outpost"})
# "the US consulate" in a sentence that names Erbil is the consulate there.
# ... and so is "the embassy" in a sentence that names Baghdad (not "the embassy of Iran").
MISSION_RE = re.compile(
    r"\b(?:(?:U\.?S\.?|American|United States)\s+|the\s+)(?P<kind>consulate|embassy)\b"
    r"(?!\s+of\b)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class SiteMatch:
    """A site named in a sentence: the site, the words used and where they start."""

    site: Site
    text: str
    start: int
    via_town: bool = False


# "a base in northeast Jordan": the one US-hosting base lying far out that way from the middle of
# the country (approximate geographic centres).
COUNTRY_CENTRES = {
    "IQ": (33.2, 43.7), "SY": (35.0, 38.5), "JO": (31.3, 36.5), "KW": (29.3, 47.6),
    "SA": (24.0, 45.0), "AE": (24.0, 54.0), "QA": (25.3, 51.2), "BH": (26.0, 50.55),
}  # fmt: skip
COUNTRY_NAMES = {
    "iraq": "IQ", "syria": "SY", "jordan": "JO", "kuwait": "KW", "saudi arabia": "SA",
    "the uae": "AE", "the united arab emirates": "AE", "qatar": "QA", "bahrain": "BH",
}  # fmt: skip
DIRECTIONS = {
    "north": (1.0, 0.0), "south": (-1.0, 0.0), "east": (0.0, 1.0), "west": (0.0, -1.0),
    "northeast": (0.7071, 0.7071), "northwest": (0.7071, -0.7071),
    "southeast": (-0.7071, 0.7071), "southwest": (-0.7071, -0.7071),
}  # fmt: skip
REGION_RE = re.compile(
    r"\b(?:a|an|one)\s+(?:[\w-]+\s+){0,3}?(?:base|outpost|garrison|installation|position|camp|"
    r"airfield|air base)\s+(?:(?:used|housing|hosting)\s+(?:by\s+)?(?:US|U\.S\.|American|coalition)\s+"
    r"(?:troops|forces)\s+)?in\s+(?:the\s+)?(?:far\s+)?(?P<dir>north|south|east|west|north-?east|"
    r"north-?west|south-?east|south-?west)(?:ern)?\s+(?P<country>"
    + "|".join(sorted(COUNTRY_NAMES, key=len, reverse=True))
    + r")\b",
    re.IGNORECASE,
)
PROVINCE_ATTACK_WORDS = ("attack", "strike", "barrage", "assault", "incident")
# The site must lie this much further that way than any other candidate, and this far out.
REGION_MARGIN_KM = 100.0
REGION_MIN_KM = 150.0


# "a base near Kirkuk" means one that hosted US personnel lately: in this many days up to the
# publication date.
HOSTING_WINDOW = timedelta(days=60)


def _hosting(site: Site, on: date) -> bool:
    """Return True if the site hosted US personnel in the window up to ``on``."""
    return site.hosted_us(on - HOSTING_WINDOW, on)


def _toward(site: Site, centre: tuple[float, float], way: tuple[float, float]) -> float:
    """Return how far (km) the site lies from the centre in the direction ``way``."""
    north = (site.lat - centre[0]) * 111.0
    east = (site.lon - centre[1]) * 111.0 * cos(radians(centre[0]))
    return north * way[0] + east * way[1]


def distance_km(a: Site, b: Site) -> float:
    """Return the great-circle distance between two sites in kilometres."""
    lat1, lon1, lat2, lon2 = map(radians, (a.lat, a.lon, b.lat, b.lon))
    h = sin((lat2 - lat1) / 2) ** 2 + cos(lat1) * cos(lat2) * sin((lon2 - lon1) / 2) ** 2
    return 2 * 6371.0 * asin(sqrt(h))


def _parse_day(value: Any, end: bool) -> date | None:
    """Return a date from YYYY, YYYY-MM or YYYY-MM-DD (first or last day of the period)."""
    if value is None:
        return None
    if isinstance(value, date):
        return value
    text = str(value)
    parts = [int(p) for p in text.split("-")]
    if len(parts) == 1:
        return date(parts[0], 12, 31) if end else date(parts[0], 1, 1)
    if len(parts) == 2:
        if not end:
            return date(parts[0], parts[1], 1)
        following = date(parts[0] + parts[1] // 12, parts[1] % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)
    return date(*parts)


def _name_key(name: str) -> str:
    """Return a name folded for lookup: "Erbil's  airport" and "Erbil airport" are one key."""
    return " ".join(re.sub(r"['’]s\b|[\-–]", " ", name).lower().split())


ALIAS_SEP = r"(?:['’]s)?[\s\-–]+"


def _alias_words(alias: str) -> list[str]:
    """Return an alias's words: any of space/hyphen between them, an optional possessive."""
    return [w.lower() for w in re.split(r"[\s\-]+", alias.strip()) if w]


def _trie_pattern(aliases: list[list[str]]) -> str:
    """Return one regex for all aliases, their words shared as a trie ("al Asad", "al Tanf"
    read "al" once): a flat alternation of 300 names costs every position of every sentence
    a try of each name. Longer names are tried first, as in the flat alternation."""
    trie: dict[str, Any] = {}
    for words in aliases:
        node = trie
        for word in words:
            node = node.setdefault(word, {})
        node[""] = {}  # a name ends here

    def build(node: dict[str, Any]) -> str:
        branches = []
        for word in sorted((w for w in node if w), key=len, reverse=True):
            child = node[word]
            rest = build(child) if any(child) else ""
            if rest:
                tail = f"(?:{ALIAS_SEP}{rest})" + ("?" if "" in child else "")
            else:
                tail = ""
            branches.append(re.escape(word) + tail)
        return "(?:" + "|".join(branches) + ")"

    return build(trie)


class Gazetteer:
    """Sites by id, with one compiled pattern that finds any name or alias in text."""

    def __init__(self, sites: list[Site]) -> None:
        self.sites = {site.id: site for site in sites}
        names: dict[str, Site] = {}
        for site in sites:
            for name in (site.name, *site.aliases):
                names.setdefault(name.lower(), site)
        self._by_name = names
        self._pattern = re.compile(
            r"(?<![\w-])" + _trie_pattern([_alias_words(n) for n in names]) + r"(?![\w])",
            re.IGNORECASE,
        )
        self._lookup = {_name_key(n): s for n, s in names.items()}
        towns: dict[str, list[Site]] = {}
        for site in sites:
            if site.town and site.kind in BASE_KINDS:
                towns.setdefault(site.town.lower(), []).append(site)
        self._towns = towns
        provinces: dict[str, list[Site]] = {}
        for site in sites:
            if site.province and site.kind in BASE_KINDS:
                provinces.setdefault(site.province.lower(), []).append(site)
        self._provinces = provinces
        # "nobody had claimed the Anbar attack": the one base of that province then.
        self._province_pattern = re.compile(
            # not "before the Kirkuk attack", a time named by another attack
            r"(?<!before )(?<!after )(?<!since )(?<!until )(?<!like )\bthe\s+(?P<province>"
            + "|".join(re.escape(p) for p in sorted(provinces, key=len, reverse=True))
            + r")\s+(?:attack|strike|barrage|assault|incident)\b",
            re.IGNORECASE,
        )
        missions: dict[tuple[str, str], list[Site]] = {}
        for site in sites:
            if site.town and site.kind in ("embassy", "consulate"):
                missions.setdefault((site.kind, site.town.lower()), []).append(site)
        self._missions = {key: found[0] for key, found in missions.items() if len(found) == 1}
        self._mission_towns = (
            re.compile(
                r"\b(?P<town>"
                + "|".join(sorted({re.escape(t) for _, t in self._missions}, key=len, reverse=True))
                + r")\b",
                re.IGNORECASE,
            )
            if self._missions
            else None
        )
        town_names = "|".join(re.escape(t) for t in sorted(self._towns, key=len, reverse=True))
        # "a base near Kirkuk", and "rockets fired at Erbil": a town as the target of an attack.
        self._town_pattern = (
            re.compile(
                r"(?:"
                + BASE_NEAR_TOWN
                + r"\s+(?:\w+\s+){0,3}?(?:in|near|outside|at)|(?:fired|launched|aimed)\s+(?:at|on|"
                r"toward|towards)|(?:attacks?|barrage|salvo|strike)"
                + ATTACK_DATE
                + r"\s+(?:on|against|in)|(?:hit|struck|"
                r"targeted|targeting)\s+(?:the\s+(?:northern\s+|Kurdish\s+)?city\s+of\s+)?"
                # "17 of them on Ain al-Asad ... and five on Erbil": a count that fell on a town
                r"|\b(?:\d{1,3}|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
                r"(?:of them\s+)?(?:on|at))"
                r"\s+(?:the\s+)?(?:city\s+of\s+)?(?P<town>" + town_names + r")\b(?!['’]s?\s+\w)",
                re.IGNORECASE,
            )
            if self._towns
            else None
        )

        self._then_town = re.compile(
            r"(?:\s+(?:air\s?base|base|airbase|airfield))?(?:\s*,\s*|\s+and\s+|\s+or\s+)"
            r"(?:(?:at|on|in)\s+)?(?:the\s+)?(?:city\s+of\s+)?(?P<town>"
            + (town_names or "(?!)")
            + r")\b(?!['’]s?\s+\w)(?!\s+(?:province|governorate|region))",
            re.IGNORECASE,
        )

    def __len__(self) -> int:
        return len(self.sites)

    def __iter__(self):
        return iter(self.sites.values())

    def get(self, site_id: str) -> Site | None:
        """Return the site with this id, or None."""
        return self.sites.get(site_id)

    def by_name(self, name: str) -> Site | None:
        """Return the site whose id, name or alias is exactly ``name`` (any case), or None."""
        return self.sites.get(name) or self._lookup.get(_name_key(name))

    def _region_site(self, m: re.Match[str], on: date) -> Site | None:
        """Return the one base far out in the named part of the country, hosting US personnel
        in the 60 days up to ``on``, or None."""
        country = COUNTRY_NAMES[m.group("country").lower()]
        way = DIRECTIONS[m.group("dir").lower().replace("-", "")]
        centre = COUNTRY_CENTRES[country]
        ranked = sorted(
            (
                (_toward(site, centre, way), site)
                for site in self.sites.values()
                if site.country == country and site.kind in BASE_KINDS and _hosting(site, on)
            ),
            key=lambda item: item[0],
            reverse=True,
        )
        if not ranked or ranked[0][0] < REGION_MIN_KM:
            return None
        if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < REGION_MARGIN_KM:
            return None
        return ranked[0][1]

    def mission_towns(self, sentence: str, on: date | None = None) -> list[str]:
        """Return the towns the sentence names ("BAGHDAD - ...") that had a US mission open
        on ``on`` (Damascus, closed in 2012, is no such town in 2022)."""
        if not self._mission_towns:
            return []
        towns = [m.group("town").lower() for m in self._mission_towns.finditer(sentence)]
        return [
            t
            for t in towns
            if on is None
            or any(
                site.hosted_us(on, on) for (_, town), site in self._missions.items() if town == t
            )
        ]

    def find_sites(
        self, sentence: str, on: date | None = None, towns: tuple[str, ...] = ()
    ) -> list[SiteMatch]:
        """Return the sites named in the sentence, in order, each once.

        "A base near Kirkuk" stands for the one base in that town that hosted US personnel in
        the 60 days up to ``on`` (the publication date); with two such bases it names none.
        "The US embassy" is the one in the town the sentence names, else in the last of
        ``towns`` (those the article named before, as in its dateline).
        """
        found: list[SiteMatch] = []
        seen: set[str] = set()
        for m in self._pattern.finditer(sentence):
            site = self.by_name(m.group(0))
            if site and site.id not in seen:
                seen.add(site.id)
                found.append(SiteMatch(site, m.group(0), m.start()))
        if self._town_pattern:
            # "missiles fired at Ain al-Asad and Erbil": a town coordinated with a named site is
            # a target too.
            after = [
                m
                for f in list(found)
                if (m := self._then_town.match(sentence, f.start + len(f.text))) is not None
            ]
            for m in [*self._town_pattern.finditer(sentence), *after]:
                candidates = self._towns[m.group("town").lower()]
                if on is not None:
                    candidates = [c for c in candidates if _hosting(c, on)]
                if len(candidates) != 1:
                    continue
                site = candidates[0]
                if site.id not in seen:
                    seen.add(site.id)
                    found.append(SiteMatch(site, m.group("town"), m.start("town"), via_town=True))
        low = sentence.lower()
        # the cheap tests first: most sentences name no part of a country and no "X attack"
        regional = on is not None and (
            "north" in low or "south" in low or "east" in low or "west" in low
        )
        for m in REGION_RE.finditer(sentence) if regional else ():
            site = self._region_site(m, on)
            if site is not None and site.id not in seen:
                seen.add(site.id)
                found.append(SiteMatch(site, m.group(0), m.start(), True))
        provincial = on is not None and any(w in low for w in PROVINCE_ATTACK_WORDS)
        for m in self._province_pattern.finditer(sentence) if provincial else ():
            candidates = [
                c for c in self._provinces[m.group("province").lower()] if _hosting(c, on)
            ]
            if len(candidates) == 1 and candidates[0].id not in seen:
                seen.add(candidates[0].id)
                found.append(
                    SiteMatch(candidates[0], m.group("province"), m.start("province"), True)
                )
        if self._mission_towns:
            for m in MISSION_RE.finditer(sentence):
                # "Missiles fired at Erbil ... the US consulate was the target": the mission,
                # not the town's base.
                found = [
                    f
                    for f in found
                    if not (
                        f.via_town
                        and f.site.town
                        and f.site.town.lower()
                        in sentence.lower()[m.end() :] + sentence.lower()[: m.start()]
                    )
                ]
                kind = m.group("kind").lower()
                here = {t.group("town").lower() for t in self._mission_towns.finditer(sentence)}
                sites_here = [
                    self._missions[(kind, t)] for t in here if (kind, t) in self._missions
                ]
                if not here and towns and (kind, towns[-1].lower()) in self._missions:
                    sites_here = [self._missions[(kind, towns[-1].lower())]]
                if len(sites_here) == 1 and sites_here[0].id not in seen:
                    seen.add(sites_here[0].id)
                    found.append(SiteMatch(sites_here[0], m.group(0), m.start(), via_town=True))
        return sorted(found, key=lambda match: match.start)


def _site_from_entry(entry: dict[str, Any]) -> Site:
    missing = [key for key in REQUIRED_KEYS if key not in entry]
    if missing:
        raise ValueError(f"site {entry.get('id', '?')!r}: missing {', '.join(missing)}")
    presence = tuple(
        Presence(
            _parse_day(p.get("from"), end=False) or date(1990, 1, 1),
            _parse_day(p.get("to"), end=True),
        )
        for p in entry["us_presence"] or ()
    )
    return Site(
        id=str(entry["id"]),
        name=str(entry["name"]),
        kind=str(entry["kind"]),
        country=str(entry["country"]),
        lat=float(entry["lat"]),
        lon=float(entry["lon"]),
        aliases=tuple(str(a) for a in entry.get("aliases") or ()),
        geo_precision=str(entry.get("geo_precision", "exact")),
        us_presence=presence,
        town=entry.get("town"),
        province=entry.get("province"),
        source=str(entry["source"]),
    )


def parse_gazetteer(text: str) -> Gazetteer:
    """Return a Gazetteer from YAML text (a list of site entries)."""
    entries = yaml.safe_load(text) or []
    return Gazetteer([_site_from_entry(entry) for entry in entries])


@cache
def default_gazetteer() -> Gazetteer:
    """Return the gazetteer bundled with basewatch (extract/data/sites.yaml)."""
    text = resources.files("extract").joinpath("data/sites.yaml").read_text(encoding="utf-8")
    return parse_gazetteer(text)
