"""Text in, dated events out: sentence-level rules for attacks on US-hosting sites.

How it reads an article (DOMAIN.md has the rules this implements):
1. Paragraphs -> sentences -> main clauses.
2. Each clause is read on its own: sites named, date expression, weapon words, attack words,
   counts, casualties, outcome, perpetrator, and whether it is a non-attack (a US strike on a
   militia, a protest, a threat, a handover, an exercise, an anniversary) or speaks of attacks in
   general ("several times over the past year").
3. Clauses that name a site and an attack open or extend an event keyed by (site, date). Clauses
   without a site add to the event they refer to: the same date ("Saturday's attack"), or the
   event of the previous sentence in the same paragraph ("Neither rocket caused casualties").
4. Events are kept only where the site hosted US personnel on that date, and are marked recent
   when they happened within 7 days before publication.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache, cached_property, lru_cache
from importlib import resources
from itertools import pairwise
from typing import Any

import yaml

from extract.dates import SAME_DAY_RE, DateSpan, find_date, local_date
from extract.figures import (
    PEOPLE_SHARE_RE,
    VAGUE_US_RE,
    CasualtyFigures,
    find_casualties,
    find_munitions,
    find_us_share,
    parse_number,
)
from extract.gazetteer import Gazetteer, SiteMatch, default_gazetteer, distance_km
from extract.model import STATUS_RANK, Casualties, Event, Munitions, Perpetrator, Site
from extract.text import split_clauses, split_paragraphs, split_sentences

__all__ = ["RECENT_DAYS", "extract_events"]

# DOMAIN.md: an attack within 7 days before publication is recent; older ones are recalled.
RECENT_DAYS = 7
# Sentences this close to the top are the lead: an undated attack there is today's news.
LEAD_SENTENCES = 3
DEFINITE_RE = re.compile(
    r"\b(?:the|this|that|Saturday's|Sunday's|Monday's|Tuesday's|Wednesday's|Thursday's|"
    r"Friday's|its|latest|(?:to|which|who|had) )\s*(?:latest\s+)?(?:attacks?|strikes?|rockets?|"
    r"drones?|missiles?|barrage|assault|incident|claimed)\b"
    # "Officials called it a dangerous attack": the attack already told of
    r"|\b(?:call(?:ed|ing|s)?|describ(?:ed|ing|es)|term(?:ed|ing|s)?|brand(?:ed|ing|s)?)\s+it\s+(?:as\s+)?an?\s+"
    r"(?:[\w-]+\s+){0,3}?(?:attacks?|strikes?|assault|act)\b",
    re.IGNORECASE,
)
# "bases hosting US troops", "a US base": a place named only by what it is.
# "an attack on the same base": the site the text named last.
SAME_SITE_RE = re.compile(
    r"\b(?:the same|that same)\s+(?:[\w-]+\s+)?(?:base|camp|site|compound|garrison|facility|"
    r"outpost|airfield|air base|airport|installation|complex)\b",
    re.IGNORECASE,
)
# "The camp was also hit in March": a base named by its kind alone is the one just named.
# "the base near Kirkuk" / "the camp at Bashiqa" names its place: the one just named only if it
# lies there ("Camp Taji ... the base north of Baghdad"), else a place named anew.
THE_BASE_RE = re.compile(
    r"\b(?:the|that)\s+(?:(?:air|military|US|American|coalition|diplomatic)\s+)?(?P<noun>base|camp|"
    r"garrison|outpost|airfield|air base|installation|embassy|consulate|compound|mission)\b"
    r"(?:,?\s+(?:(?:at|near|in|outside|of|outside of)|(?:north|south|east|west)(?:-\w+)?\s+of)\s+"
    r"(?:the\s+)?(?P<place>(?-i:[A-Z])[\w-]+))?",
    re.IGNORECASE,
)
# "the base in Iraq's Kurdistan Region", "the outpost near the meeting point of the borders":
# places wider than any one site's town, which fit any base there.
WIDE_PLACE_RE = re.compile(
    r"(?:Iraq|Syria|Jordan|Kuwait|Kurdistan|Anbar|Deir|Hasakah|Nineveh|Saladin)\b", re.IGNORECASE
)
# "a previously unknown outfit calling itself the Muhandis Revenge Brigade": a group the
# vocabulary cannot know, named by the text.
SELF_NAMED_RE = re.compile(
    r"\b(?:group|outfit|faction|militia|organi[sz]ation|movement)\s+(?:calling itself|that calls "
    r"itself|which calls itself|called|named)\s+(?:the\s+)?(?P<name>(?-i:[A-Z])[\w'’-]*(?:\s+"
    r"(?:(?:al|el|of|the|in|ahl)[\s-]+)*(?-i:[A-Z])[\w'’-]*){0,5})",
    re.IGNORECASE,
)
# "his death was not caused by an attack"
NOT_CAUSED_RE = re.compile(
    r"\b(?:death|died|deaths)\b[^.;]{0,30}?\b(?:was|were)\s+not\s+(?:caused\s+by|the\s+result\s+of|"
    r"due\s+to|related\s+to|linked\s+to)\s+(?:an?|the|any)\s+(?:attack|strike|rocket|drone|hostile)"
    # "... had a cardiac episode and died. The Pentagon said no attack took place"
    r"|\bno\s+attack\s+(?:had\s+)?(?:took\s+place|occurred|happened|taken\s+place)",
    re.IGNORECASE,
)
ORDINAL_ATTACK_RE = re.compile(
    r"\b(?:the|a)\s+(?:first|second|third|fourth|latest|other|last|next|final|earlier|later)"
    r"(?:\s+(?:attack|strike|one|incident|wave|salvo))?\s+(?:came|occurred|happened|took place|"
    r"was reported|landed|fell)\b",
    re.IGNORECASE,
)
# "no US personnel or facilities were targeted", "US forces were not the target": a denial.
NOT_TARGETED_RE = re.compile(
    r"\bno\s+(?:U\.?S\.?|American|coalition)\s+(?:[\w-]+\s+){0,3}?(?:facilities|sites|bases|"
    r"installations|personnel|forces|troops)\s+(?:or\s+(?:[\w-]+\s+)?\w+\s+)?(?:were|was|had been)\s+"
    r"(?:the\s+)?(?:targeted|targets?)\b"
    r"|\b(?:U\.?S\.?|American|coalition)\s+(?:forces|facilities|bases|personnel|troops|sites)\s+"
    r"(?:were|was)\s+not\s+(?:targeted|the\s+targets?)\b",
    re.IGNORECASE,
)
# An airport holds bases and compounds; a diplomatic zone holds an embassy: named together
# within this distance, the smaller one is the site.
CONTAINER_RANK = {"airport": 2, "diplomatic_zone": 1}
CONTAINED_KM = 4.0
# What may lie between two sites when the second only places the first.
LOCATIVE_RE = re.compile(
    r"(?:(?:\s+(?:compound|base|air base|airbase|complex|facility|camp))?,?\s+(?:in|inside|within|"
    r"at|near|next to|beside|by|adjacent to|close to|outside)\s+(?:the\s+)?(?:[A-Z][\w-]*['’]s\s+)?"
    r"|['’]s\s+)(?:heavily\s+)?(?:fortified\s+)?",
)
# "17 of them on Ain al-Asad", "and five on Erbil": a site's part of a salvo.
MUNITION_SHARE_RE = re.compile(
    r"(?<![\w-])(?P<n>\d{1,3}|one|another|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
    r"thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty)\s+(?:of them\s+)?"
    # "and one had hit Erbil International Airport"
    r"(?:(?:(?:had\s+)?(?:landed|fell|struck|hit)\s+)?(?:on|at|in|into)\s+|had\s+(?:struck|hit)\s+)"
    # "and another at the base in al-Shaddadi"
    r"(?:the\s+)?(?:(?:base|camp|outpost|garrison|airfield|airstrip)\s+(?:in|at|of|near)\s+)?$",
    re.IGNORECASE,
)
MONTH_BEFORE_RE = re.compile(
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+$", re.IGNORECASE
)
# "none of the attacks caused casualties": a zero for every attack of that day.
BLANKET_ZERO_RE = re.compile(
    r"\b(?:none|neither) of (?:the|these|those) (?:\w+ )?(?:attacks|strikes|incidents)\b"
    r"|\bneither attack\b|\bin (?:either|any) of the (?:attacks|incidents)\b",
    re.IGNORECASE,
)
DEFENCE_RE = re.compile(
    r"\b(?:Patriot|interceptor|surface-to-air|anti-aircraft|air[- ]defen[cs]es?|Hellfire|"
    r"counter-(?:rocket|drone|UAS)|C-RAM|Phalanx|THAAD)(?:\s+(?:missiles?|rockets?|systems?|"
    r"batteries|battery|interceptors?))?(?:\s+(?:\w+\s+){0,2}?opened fire)?",
    re.IGNORECASE,
)
# Cheap tests that let the costly share and toll patterns run only where they can match.
SHARE_HINT_RE = re.compile(r"\bof (?:them|those|the)\b|\b(?:remaining|other)\b", re.IGNORECASE)
VAGUE_HINT_RE = re.compile(
    r"\b(?:a number of|several|some|many|dozens of|scores of|a few|an unknown number of)\s+"
    r"(?:U\.?S\.?|American|coalition)\b",
    re.IGNORECASE,
)
# "the coalition against Islamic State": the group named next is the foe, not the attacker.
FOE_RE = re.compile(r"\b(?:against|fight(?:ing)?|defeat(?:ing)?)\s+(?:the\s+)?$", re.IGNORECASE)
EARLIER_ATTACK_RE = re.compile(
    r"\b(?:the|that)\s+(?:earlier|previous|prior|preceding|first|last)\s+(?:\w+\s+)?"
    r"(?:attack|strike|barrage|salvo|incident)\b",
    re.IGNORECASE,
)
MORE_RE = re.compile(
    r"\b(?:\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|[a-z]+ty(?:-\w+)?)\s+more\b",
    re.IGNORECASE,
)
SAID_THREAT_RE = re.compile(r"(?:threat|warn|vow|pledg)\w*", re.IGNORECASE)
# An occasion beside an attack (not a storming, a memorial or a wreath).
OCCASION_RE = re.compile(r"anniversary|protest\w*|demonstrat\w+|rall(?:y|ies)", re.IGNORECASE)
STRUCK_RE = re.compile(
    r"\b(?:fired|struck|hit|targeted|attacked|launched|landed|slammed|exploded|shot down|"
    r"intercepted)\b",
    re.IGNORECASE,
)
SALVO_RE = re.compile(r"\b(?:barrages?|salvos?|volleys?)\b", re.IGNORECASE)
# Verbs that report harm done (not "died", which may be of natural causes).
HURT_RE = re.compile(r"\b(?:killed|killing|wounded|wounding|injured|injuring)\b", re.IGNORECASE)
# "The US embassy condemned Sunday's attack": a site that speaks is not the target.
SPEAKER_RE = re.compile(
    r"^(?:['’]s\s+(?:\w+\s+)?(?:spokes\w+|statement|press office)\s+)?(?:[\w,-]+\s+){0,3}?"
    r"(?:said|says|condemned|condemns|urged|urges|called|issued|announced|stated|confirmed|denied|"
    r"tweeted|added|warned|advised|told|posted|wrote|declined)\b",
    re.IGNORECASE,
)
# "the embassy's guns", "the base's sirens": the site owns the thing, it is not the target.
OWNER_RE = re.compile(
    r"['’]s\s+(?:own\s+)?(?:[\w-]+\s+)?(?:guns|defen[cs]es?|C-RAM|sirens?|alarms?|air[- ]defen[cs]es?|"
    r"systems?|staff|spokes\w+|security|guards|counter-rocket|warning)\b",
    re.IGNORECASE,
)
SPEAKER_BEFORE_RE = re.compile(
    r"(?:\b(?:on|at|into|near|against|toward|towards|inside|hit|struck|targeted|of)\s+(?:the\s+)?"
    r"(?:\w+\s+){0,2})$",
    re.IGNORECASE,
)
# "The outpost, known as Tower 22, houses 350 troops": a sentence that names the site of the
# event the text just reported without one.
IDENTIFY_RE = re.compile(
    r"\b(?:known as|called|named|identified as|is|was)\b|^\W*(?:the|that)\s+(?:\w+\s+)?(?:base|outpost|"
    r"garrison|camp|facility|site|installation)\b",
    re.IGNORECASE,
)
# Countries as the text names them: a base "in north-eastern Jordan" is not one in Syria.
COUNTRIES = {
    "IQ": r"Iraq(?:i)?",
    "SY": r"Syria(?:n)?",
    "JO": r"Jordan(?:ian)?",
    "KW": r"Kuwait(?:i)?",
    "QA": r"Qatar(?:i)?",
    "BH": r"Bahrain(?:i)?",
    "SA": r"Saudi",
    "AE": r"UAE|Emirat(?:es|i)",
}
COUNTRY_RES = {code: re.compile(rf"\b(?:{words})\b") for code, words in COUNTRIES.items()}
# Which gazetteer kinds a noun can stand for; an embassy is one per article, so it is found
# however far back it was named.
NOUN_KINDS = {
    "embassy": ("embassy", "diplomatic_zone"),
    "consulate": ("consulate",),
    "mission": ("embassy", "consulate", "diplomatic_zone"),
    "compound": ("embassy", "consulate", "diplomatic_zone", "base", "air_base", "outpost"),
}
BASE_KINDS = ("base", "air_base", "outpost", "airport")
# How many sentences back a site may be named for "the base" to stand for it.
THE_BASE_REACH = 2
# "Five American troops were hurt when a drone hit a base in Syria": a base of theirs.
US_HURT_RE = re.compile(
    r"\b(?:U\.?S\.?|American|coalition)\s+(?:troops|personnel|service members|soldiers|forces)\s+"
    r"(?:were|was|have been|had been)\s+(?:\w+\s+)?(?:hurt|wounded|injured|killed|treated)\b"
)
# "... a military base at Bashiqa": the name of that other place.
PLACE_NAME_RE = re.compile(r"\s+(?:at|in|near|outside)\s+(?P<name>(?-i:[A-Z])[\w-]{2,})")
# "rockets struck a military camp at Bashiqa": a place the gazetteer does not hold.
OTHER_PLACE_RE = re.compile(
    r"\b(?:a|an|another)\s+(?:[\w-]+\s+){0,2}?(?:base|camp|outpost|garrison|airfield|airport|"
    r"checkpoint|barracks)\b",
    re.IGNORECASE,
)
# "later counts put the number of wounded at nine", "the toll rose to": a count that replaces
# the first one.
REVISED_RE = re.compile(
    r"\b(?:later|latest|updated|revised|new|final|subsequent)\s+(?:\w+\s+)?(?:counts?|tall(?:y|ies)|"
    r"tolls?|figures?|numbers?|assessments?)\b"
    r"|\b(?:has|have|had)?\s*(?:risen|rose|climbed|increased|grown|jumped)\s+to\b"
    r"|\b(?:risen|rose|climbed|increased|grew|grown)\b[^.;]{0,30}\breaching\s+(?:\w+\s+)?\d"
    r"|\bnumber of\b[^.;]{0,60}\b(?:reached|rose to|climbed to|stood at)\b"
    r"|\b(?:revised|raised|updated|lowered|corrected)\s+(?:the\s+|its\s+|their\s+)?(?:\w+\s+)?"
    r"(?:counts?|tall(?:y|ies)|tolls?|figures?|numbers?)\b",
    re.IGNORECASE,
)
FIRST_COUNT_RE = re.compile(r"\b(?:at first|initially|first|earlier)\b", re.IGNORECASE)
# "Officials called it a dangerous attack on a civilian airport": words on the attack just told
# of, not another place.
CALLED_RE = re.compile(
    r"\b(?:call(?:ed|ing|s)?|describ(?:ed|ing|es)|term(?:ed|ing|s)?|brand(?:ed|ing|s)?|condemn(?:ed|ing|s)?)"
    r"\s+(?:it|this|that|the\s+(?:\w+\s+)?(?:attack|strike|incident))\s+(?:as\s+)?(?:an?\s+)?"
    r"[^.;,]{0,40}$",
    re.IGNORECASE,
)
# "American forces in Iraq and Syria were attacked four times late on Thursday": troops as the
# target stand for the base they are at, which a later sentence may name.
US_FORCES_RE = re.compile(
    r"\b(?:U\.?S\.?|American|coalition)(?:-led)?\s+(?:forces|troops|personnel|service members|"
    r"soldiers|positions|bases)(?:\s+(?:in|at|near|stationed)\b[^.;,]{0,60}?)?\s+(?:(?:came|come) under|"
    r"(?:were|was|have been|had been)\s+(?:attacked|targeted|struck|hit))\b"
    # "drones targeted American forces at a base in Hasakah"
    r"|\b(?:targeted|attacked|struck|fired (?:at|on)|launched (?:at|against))\s+(?:the\s+)?"
    r"(?:U\.?S\.?|American|coalition)(?:-led)?\s+(?:forces|troops|personnel|service members)"
    r"(?:\s+(?:in|at|near)\s+[^.;,]{1,50}?)?(?=[.;,]|\s+(?:on|early|late|overnight|in|with)\b)"
)
# Where a clause breaks into parts that can tell of different acts: a dash aside, or a phrase
# that recalls another act ("..., its answer to the US drone strike", "since Washington struck").
SEGMENT_RE = re.compile(
    r"\s+[-–—]\s+"
    r"|,\s+(?=(?:its|an?|the)\s+(?:[\w-]+\s+){0,3}?(?:answer|response|reply|retaliation|revenge)\b)"
    # "..., saying the salvo avenged the US killing of Soleimani": what was said of it
    r"|,\s+(?=(?:saying|claiming|calling it)\s)"
    # "... at Ain al-Asad to avenge the killing of Soleimani"
    r"|,?\s+(?=(?:to avenge|avenging|avenged|in revenge for|as revenge for)\s)"
    r"|,?\s+(?=(?:after|since|following|days after|hours after|weeks after|in response to|"
    r"in retaliation for|in revenge for|as revenge for)\s)"
    # "the first wave of retaliation for | the drone attack that killed three soldiers"
    r"|\b(?:retaliation|revenge|response|answer|reply) (?:for|to) (?P<cut>)"
    # "Rockets on Green Village | and drones on al-Tanf": each site its own weapon
    r"|,?\s+(?:and|while|as)\s+(?=(?:(?:an?|one|two|three|four|five|six|\d+)\s+)?(?:[\w-]+\s+)?"
    r"(?:rockets?|drones?|missiles?|mortars?|mortar rounds)\s+(?:(?:were|was)\s+)?(?:on|at|against|"
    r"hit|struck|targeted|fell|landed|fired)\b)",
    re.IGNORECASE,
)
MILITANT_TOLL_RE = re.compile(
    r"\b(?:militants?|insurgents?|gunmen|attackers|militiamen|launch(?:ing)? teams?)\b[^.;]{0,40}?"
    r"\b(?:were|had been|have been|was)\s+(?:\w+ly\s+)?(?:killed|dead)\b"
    r"|\b(?:killed|killing)\s+(?:[\w-]+\s+){0,4}?(?:militants|insurgents|gunmen|attackers|militiamen)\b",
    re.IGNORECASE,
)
# ", and drones at targets in Dubai": a weapon sent at another target of the same salvo
OTHER_TARGET_RE = re.compile(
    r",?\s+(?:and|while|as)\s+(?:had\s+sent\s+|sent\s+)?(?:(?:an?|one|two|three|four|five|\d+)\s+)?"
    r"(?:[\w-]+\s+)?(?:rockets?|drones?|missiles?)\s+(?:were\s+)?(?:at|on|against|towards?)\s+[^.;,]*",
    re.IGNORECASE,
)
CAME_AFTER_RE = re.compile(
    r"(?:just\s+|only\s+|barely\s+)?(?:\w+\s+)?(?:days?|hours?|weeks?|months?)\s+(?:after|before)\b",
    re.IGNORECASE,
)
IT_HIT_RE = re.compile(
    r"\bit\s+(?:was|had been|has been)\s+(?:\w+ly\s+)?(?:hit|struck|attacked|targeted|shelled)\b"
    r"|\bit\s+came\s+under\s+(?:\w+\s+)?(?:fire|attack)\b",
)
HEADING_CHARS = 80  # a paragraph this short, on one line, heads the ones after it
FRONTED_RE = re.compile(r",?\s*(?:(?:days|hours|weeks) )?(?:after|following)\s", re.IGNORECASE)
# "- the first time such a weapon was used in this campaign -": an aside, not the clause's news.
ASIDE_RE = re.compile(r"\s[-–—]\s(?:(?!\s[-–—]\s).)*?\s[-–—]\s|\([^)]*\)")
# "In north-eastern Syria, two bases came under fire": bases counted, in a story about attacks
# on US forces (the caller checks the story is one).
COUNTED_BASES_RE = re.compile(
    r"\b(?:two|three|four|several|multiple)\s+(?:other\s+)?(?:military\s+)?(?:bases|outposts)\b"
    r"(?:\s+in\s+(?:[\w'-]+\s+){0,2}?(?:Syria|Iraq|Jordan))?",
    re.IGNORECASE,
)
US_SITE_RE = re.compile(
    r"\b(?:(?:a|an|the|one|two|three|several)\s+(?:[\w-]+\s+){0,2}?(?:U\.?S\.?|American|coalition)"
    r"(?:-led)?\s+(?:coalition\s+)?(?:military\s+|troop\s+|patrol\s+)?(?:base|outpost|garrison|"
    r"facility|site|position)s?"
    # "a base of the International Coalition", "a position of the American forces"
    r"|(?:a|an|one|two|three|several)\s+(?:base|outpost|garrison|facility|position)s?\s+(?:of|for)\s+"
    r"the\s+(?:international\s+)?(?:U\.?S\.?|American|coalition|US-led)(?:\s+(?:coalition|forces|troops|"
    r"army|military))?\b"
    # "a base in north-eastern Syria housing US troops"
    r"|(?:bases?|outposts?|facilit(?:y|ies)|compounds?|sites?|positions?)(?:\s+(?:in|near|at|outside)"
    r"(?:\s+[\w'-]+){1,3}?)?\s+(?:hosting|housing|used by|where)\s+(?:\w+\s+){0,2}?"
    r"(?:U\.?S\.?|American|coalition)(?:-led)?\s+(?:troops|forces|personnel|soldiers|"
    r"service members|advisers|advisors|contractors))",
    re.IGNORECASE,
)


@dataclass(frozen=True, eq=False)  # hashed by identity: it keys the lru caches
class Vocabulary:
    """The compiled word lists from extract/data/vocab.yaml."""

    types: tuple[tuple[str, re.Pattern[str]], ...]
    attack: re.Pattern[str]
    not_attack: tuple[tuple[str, re.Pattern[str]], ...]
    habitual: re.Pattern[str]
    outcomes: tuple[tuple[str, re.Pattern[str]], ...]
    perpetrators: tuple[tuple[str, re.Pattern[str]], ...]
    statuses: tuple[tuple[str, re.Pattern[str]], ...]
    any_perpetrator: re.Pattern[str] = re.compile(r"(?!)")  # any name above, to test first


def _words(fragments: list[str], flags: int = re.IGNORECASE) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(fragments) + r")(?![\w-])", flags)


def parse_vocabulary(data: dict[str, Any]) -> Vocabulary:
    """Return the compiled vocabulary from its YAML mapping."""
    perpetrators = []
    groups = []  # each name's fragments as one group of the pattern that finds any of them
    for name, patterns in data["perpetrators"].items():
        # Acronyms ("KH", "PMF") must match in capitals only.
        exact = [p for p in patterns if re.fullmatch(r"[A-Z]{2,5}s?\??", p)]
        loose = [p for p in patterns if p not in exact]
        for fragments, flags in ((loose, re.IGNORECASE), (exact, 0)):
            if fragments:
                case = "i" if flags else "-i"
                groups.append(f"(?P<p{len(perpetrators)}>(?{case}:{'|'.join(fragments)}))")
                perpetrators.append((name, _words(fragments, flags)))
    return Vocabulary(
        types=tuple((t, _words(p)) for t, p in data["attack_types"].items()),
        attack=_words(data["attack_words"]),
        not_attack=tuple((k, _words(p)) for k, p in data["not_attacks"].items()),
        habitual=_words(data["habitual"]),
        outcomes=tuple((k, _words(p)) for k, p in data["outcomes"].items()),
        perpetrators=tuple(perpetrators),
        statuses=tuple((k, _words(p)) for k, p in data["perpetrator_status"].items()),
        # one pattern for all names, each in its own group (p0, p1, ...) with its own case;
        # the word boundaries stand outside the names, so most places fail at once
        any_perpetrator=re.compile(r"(?<![\w-])(?:" + "|".join(groups) + r")(?![\w-])"),
    )


@cache
def default_vocabulary() -> Vocabulary:
    """Return the vocabulary bundled with basewatch."""
    text = resources.files("extract").joinpath("data/vocab.yaml").read_text(encoding="utf-8")
    return parse_vocabulary(yaml.safe_load(text))


@dataclass
class _Clause:
    """What one clause says.

    The figures most clauses never need (a clause with no site and no attack is only read for
    its date and toll) are read from the text when first asked for; the loop may still set them.
    """

    text: str
    sentence: str
    sites: list[SiteMatch]
    date: DateSpan | None
    types: list[str]
    is_attack: bool
    negative: str | None
    killed: Casualties | None
    wounded: Casualties | None
    vocab: Vocabulary
    weapons: str  # the text without weapons sent at another target

    @cached_property
    def habitual(self) -> bool:
        return bool(self.vocab.habitual.search(ASIDE_RE.sub(" ", self.sentence)))

    @cached_property
    def munitions(self) -> Munitions | None:
        return find_munitions(self.weapons)

    @cached_property
    def outcome(self) -> str | None:
        return _read_outcome(self.text, self.vocab)

    @cached_property
    def perpetrator(self) -> Perpetrator | None:
        return _read_perpetrator(self.text, self.vocab)

    @cached_property
    def definite(self) -> bool:
        return bool(DEFINITE_RE.search(self.text))

    @cached_property
    def us_site_text(self) -> str | None:
        us_site = US_SITE_RE.search(self.text) or US_FORCES_RE.search(self.text)
        return _with_place(self.text, us_site) if us_site else None

    @cached_property
    def us_share(self) -> tuple[int | None, bool, str | None, bool] | None:
        return find_us_share(self.text)

    @cached_property
    def vague_us(self) -> str | None:
        """ "a number of US personnel were hurt": that figure's kind."""
        return _vague_kind(self.text)

    @property
    def has_details(self) -> bool:
        return (
            self.killed is not None
            or self.wounded is not None
            or self.munitions is not None
            or self.outcome is not None
            or self.perpetrator is not None
            or self.us_share is not None
            or self.vague_us is not None
        )


@dataclass
class _Draft:
    """An event being assembled from the clauses that report it."""

    site: Site | None
    location_text: str
    date: DateSpan | None
    order: int
    context_type: str | None = None
    narrative_date: DateSpan | None = None  # the last date the text gave before this event
    types: list[str] = field(default_factory=list)
    munitions: Munitions | None = None
    outcome: str | None = None
    killed: Casualties | None = None
    wounded: Casualties | None = None
    perpetrator: Perpetrator = field(default_factory=Perpetrator)
    evidence: list[str] = field(default_factory=list)
    last_kind: str | None = None  # the casualty figure the text gave last: killed or wounded
    by_town: bool = False  # the site is only the town's base ("missiles fired at Erbil")
    vague: set[str] = field(default_factory=set)  # figures with a US toll the text won't count
    killed_before: Casualties | None = None  # the death toll before the last clause gave one
    date_lent: bool = False  # the date is a later sentence's, given to an undated event

    def add(self, clause: _Clause, weak: bool = False) -> None:
        """Add what the clause says; a ``weak`` clause (no site of its own) adds weapon types
        only to an event that has none ("unlike last week's rockets, the drone ...")."""
        if clause.sentence not in self.evidence:
            self.evidence.append(clause.sentence)
        for kind in clause.types:
            if kind not in self.types and not (weak and self.types):
                self.types.append(kind)
        # a later count replaces the first; not "at first reported five dead and twenty
        # wounded, then the dead rose to seven": that clause tells the first count too
        cue = REVISED_RE.search(clause.text)
        first_too = bool(cue and FIRST_COUNT_RE.search(clause.text, 0, cue.start()))
        revised = bool(cue) and not first_too
        if self.munitions is None and clause.munitions is not None:
            self.munitions = clause.munitions
        elif revised and clause.munitions is not None:
            self.munitions = clause.munitions  # "the number of rockets ... reached eighteen"
        elif (
            self.munitions is not None
            and self.munitions.max is None
            and clause.munitions is not None
            and clause.munitions.max is not None
            and (clause.munitions.min or 0) >= (self.munitions.min or 0)
        ):
            # "three of them landed inside the base" ... "14 rockets": the count, not its floor
            self.munitions = clause.munitions
        if clause.outcome and (self.outcome is None or self.outcome == "impact"):
            self.outcome = clause.outcome if self.outcome is None else self.outcome
        if clause.killed is not None:
            self.killed_before = self.killed
        self.killed = _merge_casualties(self.killed, clause.killed, revised)
        self.wounded = _merge_casualties(self.wounded, clause.wounded, revised)
        if cue and first_too:
            # "said at first that 25 were injured, before it raised the number to 34": the
            # figures after the words of the revision are the revised ones
            later = find_casualties(clause.text[cue.start() :])
            self.killed = _merge_casualties(self.killed, later.killed, True)
            self.wounded = _merge_casualties(self.wounded, later.wounded, True)
        if clause.wounded and clause.wounded.total:
            self.last_kind = "wounded"
        elif clause.killed and clause.killed.total:
            self.last_kind = "killed"
        if clause.us_share is not None:
            self._add_us_share(*clause.us_share)
        if clause.vague_us:
            self.vague.add(clause.vague_us)
        if clause.perpetrator:
            self.perpetrator = _merge_perpetrator(self.perpetrator, clause.perpetrator)
        if self.date is None and clause.date is not None:
            self.date = clause.date
        elif self.date_lent and not weak and clause.date is not None and clause.date != self.date:
            # "... day after Harir drone" (headline), "announced on Thursday" (lead), "On
            # Wednesday ... a drone on Harir": the event's own sentence dates it.
            self.date = clause.date
            self.date_lent = False
        elif (
            self.date is not None
            and clause.date is not None
            and clause.date.precision == "day" != self.date.precision
            and self.date.start <= clause.date.start <= self.date.end
        ):
            self.date = clause.date  # "last month" ... "on Oct. 25": the day it was

    def _add_us_share(
        self, us: int | None, single: bool, kind: str | None, part: bool = False
    ) -> None:
        """Give the US share to the figure it speaks of ("Two of the dead were Americans");
        a ``part`` ("four of the injured contractors are US citizens") adds to a US share
        already given of the figure's other people."""
        last = kind or self.last_kind
        kinds = ["killed", "wounded"] if last == "killed" else ["wounded", "killed"]
        for name in kinds if single else kinds[:1]:
            figure: Casualties | None = getattr(self, name)
            if part and us and figure and figure.total and figure.us:
                if figure.us + us <= figure.total:
                    setattr(self, name, Casualties(figure.total, figure.us + us))
                return
            if figure is None or not figure.total or figure.us is not None:
                continue
            if single and figure.total != 1:
                continue
            share = figure.total if us is None else us
            if share <= figure.total:
                setattr(self, name, Casualties(figure.total, share))
            return


def _merge_casualties(
    old: Casualties | None, new: Casualties | None, revised: bool = False
) -> Casualties | None:
    """Combine two statements of one figure: a count beats "none reported"; keep the US share.
    A ``revised`` count ("later counts put the number of wounded at nine") replaces the first."""
    if new is None:
        return old
    if old is None:
        return new
    if revised and new.total and old.total is not None and new.total != old.total:
        # "no Americans were harmed" ... "the count rose to 109": a first "none" is undone
        us = new.us if new.us is not None or old.total == 0 else old.us
        return Casualties(new.total, us if us is None or us <= new.total else None)
    total = old.total if old.total else (new.total if new.total is not None else old.total)
    if new.total == 0 and old.total:
        return Casualties(total, old.us)  # "no injuries" says nothing of the US share of a toll
    us = old.us if old.us else (new.us if new.us is not None else old.us)
    if us is not None and total is not None and us > total:
        us = None  # a tally of US casualties since October is no share of this toll
    return Casualties(total, us)


def _merge_perpetrator(old: Perpetrator, new: Perpetrator) -> Perpetrator:
    """Keep the firmest attribution; a named group beats an unnamed one at the same rank."""
    if STATUS_RANK[new.status] > STATUS_RANK[old.status]:
        return Perpetrator(new.name or old.name, new.status, new.by or old.by)
    if old.name is None and new.name:
        return Perpetrator(new.name, old.status if old.status != "unknown" else new.status, old.by)
    return old


def _read_types(text: str, vocab: Vocabulary) -> list[str]:
    """Return the attack types the text's weapon words name, in order of mention."""
    return list(_types_cached(text, vocab))


@lru_cache(maxsize=4096)
def _types_cached(text: str, vocab: Vocabulary) -> tuple[str, ...]:
    # A one-clause sentence is read twice (as the sentence and as its clause): read it once.
    found: list[tuple[int, str]] = []
    # "Patriot missiles brought down two drones": the defenders' weapons are not the attack's.
    taken: list[tuple[int, int]] = [m.span() for m in DEFENCE_RE.finditer(text)]
    for kind, pattern in vocab.types:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append(m.span())
            found.append((m.start(), kind))
    kinds: list[str] = []
    for _, kind in sorted(found):
        if kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


def _read_perpetrator(text: str, vocab: Vocabulary) -> Perpetrator | None:
    # the cheap test first: "calling itself", "called", "named"
    self_named = SELF_NAMED_RE.search(text) if "call" in text or "named" in text else None
    found = vocab.any_perpetrator.search(text)
    if found is None and self_named is None:
        return None  # the cheap test first: most clauses name no one (no name, no perpetrator)
    name = None
    best = len(text) + 1
    if self_named is not None:
        name, best = self_named.group("name"), self_named.start()
    # The name said first (the first of the list where two start together).
    while found is not None and found.start() < best:
        # "troops supporting the coalition against Islamic State": the foe, not the attacker
        if not FOE_RE.search(text, 0, found.start()):
            name = vocab.perpetrators[int(str(found.lastgroup)[1:])][0]
            break
        found = vocab.any_perpetrator.search(text, found.start() + 1)
    status = "unknown"
    for candidate, pattern in vocab.statuses:
        if pattern.search(text):
            status = candidate
            break
    if (
        status == "claimed"
        and not name
        and not re.search(r"\bgroup|faction|militia", text, re.IGNORECASE)
    ):
        status = "unknown"  # "claimed the lives of ..." is no claim of responsibility
    if name is None and status in ("unknown", "claimed"):
        return None
    if name is None and status in ("suspected", "blamed"):
        return None
    if status == "unknown":
        status = "suspected"
    by = None
    if status == "blamed":
        m = re.search(
            r"\b((?:U\.?S\.?|American|Iraqi|Pentagon|State Department|coalition)"
            r"(?:\s+\w+){0,2}?\s+(?:officials?|spokes\w+|said|statement))",
            text,
        )
        by = m.group(1) if m else None
    return Perpetrator(name, status, by)


def _place(text: str, counted: re.Match[str]) -> str:
    """Return "two bases in north-eastern Syria" from "In north-eastern Syria, two bases ..."."""
    if re.search(r"\bin\s", counted.group(0)):
        return counted.group(0)
    region = re.match(r"\s*In\s+((?:[\w'-]+\s+){0,2}?(?:Syria|Iraq|Jordan)),", text)
    return f"{counted.group(0)} in {region.group(1)}" if region else counted.group(0)


def _munitions_share(sentence: str, match: SiteMatch) -> Munitions | None:
    """Return the count the sentence gives for this one site ("17 of them on Ain al-Asad")."""
    before = sentence[max(0, match.start - 40) : match.start]
    m = MUNITION_SHARE_RE.search(before)
    if m is None or MONTH_BEFORE_RE.search(before, 0, m.start()):
        return None  # not "on January 8 at Ain al-Asad": a day of the month
    n = 1 if m.group("n").lower() == "another" else parse_number(m.group("n"))
    return Munitions(n, n) if n else None


def _zero(figure: Casualties | None) -> Casualties | None:
    return figure if figure is not None and not figure.total and not figure.us else None


def _zero_only(clause: _Clause) -> _Clause:
    """Return the clause without the counts that cannot be shared out among several events."""
    return _copy(clause, munitions=None, killed=_zero(clause.killed), wounded=_zero(clause.wounded))


def _only_zeros(clause: _Clause) -> bool:
    """Return True if the clause gives no count but zero tolls ("no one was hurt")."""
    return (
        clause.munitions is None
        and _zero(clause.killed) == clause.killed
        and _zero(clause.wounded) == clause.wounded
    )


def _copy(clause: _Clause, **changes: object) -> _Clause:
    """Return a copy of the clause (with the figures read so far) with some values changed."""
    other = copy.copy(clause)
    for name, value in changes.items():
        setattr(other, name, value)
    return other


def _share_toll(
    clause: _Clause, toll: tuple[str, Casualties] | None
) -> tuple[str, Casualties] | None:
    """Give a site its share of a toll stated before ("Twenty of them were at al-Tanf");
    return the toll the text has now given last."""
    share = (
        PEOPLE_SHARE_RE.search(clause.text)
        if toll and len(clause.sites) == 1 and SHARE_HINT_RE.search(clause.text)
        else None
    )
    if share and toll and len(clause.sites) == 1 and clause.killed is clause.wounded is None:
        kind, figure = toll
        n = parse_number(share.group("n") or share.group("n2"))
        if n and figure.total and n <= figure.total:
            setattr(clause, kind, Casualties(n, n if figure.us == figure.total else None))
            return toll
    for kind in ("wounded", "killed"):
        figure = getattr(clause, kind)
        if figure is not None and figure.total:
            if (
                figure.us is None
                and toll is not None
                and toll[0] == kind
                and toll[1].total
                and toll[1].us == toll[1].total
                and MORE_RE.search(clause.text)
            ):
                # "20 Americans were hurt at al-Tanf, while four more were hurt at Ain al-Asad"
                figure = Casualties(figure.total, figure.total)
                setattr(clause, kind, figure)
            return kind, figure
    return toll


def _vague_kind(text: str) -> str | None:
    """Return "killed" or "wounded" if the clause speaks of a US toll without a count."""
    if not VAGUE_HINT_RE.search(text):
        return None
    m = VAGUE_US_RE.search(text)
    if m is None:
        return None
    killed = re.search(r"\b(?:killed|dead|died|deaths?)\b", m.group(0), re.IGNORECASE)
    return "killed" if killed else "wounded"


def _hurt(figures: CasualtyFigures) -> bool:
    """Return True if the figures count someone killed or wounded."""
    return any(c is not None and bool(c.total) for c in (figures.killed, figures.wounded))


def _read_outcome(text: str, vocab: Vocabulary) -> str | None:
    for outcome, pattern in vocab.outcomes:
        if pattern.search(text):
            return outcome
    return None


def _cut(m: re.Match[str]) -> int:
    """Return where a SEGMENT_RE match cuts the clause."""
    return m.start("cut") if m.group("cut") is not None else m.start()


def _done(text: str) -> bool:
    """Return True when the text tells of an attack carried out (a strike or harm done)."""
    return bool(STRUCK_RE.search(text) or HURT_RE.search(text))


@lru_cache(maxsize=4096)
def _find_negative(text: str, vocab: Vocabulary) -> tuple[str, re.Match[str]] | None:
    """Return the first kind of non-attack the text reads as, with its match, or None."""
    for kind, pattern in vocab.not_attack:
        for m in pattern.finditer(text):
            # "Kataib Hezbollah, which has vowed to expel US forces, fired three rockets": a
            # vow or warning beside an attack told in the past is no threat instead of one.
            if kind == "threat" and SAID_THREAT_RE.fullmatch(m.group(0)) and _done(text):
                continue
            # "Rockets hit the embassy on the anniversary of the strike / as protesters gathered":
            # the occasion is not the act.
            if (
                kind in ("protest", "anniversary")
                and OCCASION_RE.fullmatch(m.group(0))
                and STRUCK_RE.search(text)
                and _types_cached(text, vocab)
            ):
                continue
            return kind, m
    return None


def _split_negative(
    text: str, site_starts: list[int], vocab: Vocabulary
) -> tuple[list[tuple[int, int]], str | None]:
    """Return the parts of a clause that are not a non-attack, and the non-attack kind if the
    whole clause is one.

    "Iran fired missiles at two bases on Wednesday, its answer to the US drone strike that
    killed Soleimani": the US strike is a part of its own; the attack stays.
    """
    found = _find_negative(text, vocab)
    if found is None:
        return [(0, len(text))], None
    bounds = [0, *(_cut(m) for m in SEGMENT_RE.finditer(text)), len(text)]
    parts = [(a, b) for a, b in pairwise(bounds) if b > a]
    # "In January, days after the US killed Soleimani at Baghdad airport, Iran fired missiles at
    # the base": a fronted "after ..." phrase ends at its comma.
    split: list[tuple[int, int]] = []
    for a, b in parts:
        fronted = FRONTED_RE.match(text, a, b)
        if fronted and a < 40 and (comma := text.find(", ", fronted.end(), b)) != -1:
            split += [(a, comma), (comma, b)]
        else:
            split.append((a, b))
    parts = split
    if len(parts) == 1:
        return parts, found[0]
    kept = [(a, b) for a, b in parts if _find_negative(text[a:b], vocab) is None]
    # A kept part must stand on its own as an attack: a weapon or a named target, not just
    # "the strikes were authorised".
    rest = " ".join(text[a:b] for a, b in kept)
    named = any(a <= at < b for at in site_starts for a, b in kept)
    if (
        kept
        and len(kept) < len(parts)
        and vocab.attack.search(rest)
        and (
            named
            or _read_types(rest, vocab)
            or US_SITE_RE.search(rest)
            or US_FORCES_RE.search(rest)
        )
    ):
        return kept, None
    return parts, found[0]


def _read_clause(
    text: str,
    sentence: str,
    sites: list[SiteMatch],
    published: datetime,
    vocab: Vocabulary,
    anchor: DateSpan | None = None,
) -> _Clause:
    weapons = text
    # "aimed ballistic missiles at Al Dhafra and drones at targets in Dubai": the drones were
    # not this site's
    other = OTHER_TARGET_RE.search(text) if sites else None
    if other and not any(m.text in other.group(0) for m in sites):
        weapons = text[: other.start()] + text[other.end() :]
    types = _read_types(weapons, vocab)
    found = _find_negative(text, vocab)
    negative = found[0] if found else None
    figures = find_casualties(text)
    return _Clause(
        text=text,
        sentence=sentence,
        sites=sites,
        date=_site_date(text, sites, published, anchor),
        types=types,
        is_attack=bool(types)
        or bool(vocab.attack.search(text))
        # "The deadliest, on January 28, killed three US soldiers at Tower 22"
        or bool(sites and _hurt(figures) and HURT_RE.search(text))
        # "The first came early in the day at Ain al-Asad": one of the attacks just told of
        or bool(sites and ORDINAL_ATTACK_RE.search(text)),
        negative=negative,
        killed=figures.killed,
        wounded=figures.wounded,
        vocab=vocab,
        weapons=weapons,
    )


def _dates_meet(a: DateSpan | None, b: DateSpan | None) -> bool:
    """Return True if two dates can be the same attack (within a day; overnight straddles)."""
    if a is None or b is None:
        return True
    return a.start - timedelta(days=1) <= b.end and b.start - timedelta(days=1) <= a.end


def _finish(draft: _Draft, today: date) -> Event | None:
    """Return the finished event, or None if it is not an attack on a US-hosting site."""
    # An undated report in the lead of a story that dated its attack ("late on Thursday") takes
    # that date; otherwise yesterday-or-today.
    narrative = draft.narrative_date
    if draft.date is None and narrative and (today - narrative.end).days <= RECENT_DAYS:
        draft.date = narrative
    span = draft.date or _lead_span(today)
    if draft.site is not None and not draft.site.hosted_us(span.start, span.end):
        return None  # DOMAIN.md: no US presence at the site then (e.g. Taji after Aug 2020)
    if len(draft.types) == 1:
        attack_type = draft.types[0]
    elif len(draft.types) > 1:
        attack_type = "mixed"
        # "rockets and a drone": the one drone is not the size of the attack.
        draft.munitions = None
    elif draft.context_type:
        attack_type = draft.context_type
    elif any(SALVO_RE.search(sentence) for sentence in draft.evidence):
        attack_type = "rocket"  # "a barrage on the same camp": a salvo with no weapon named
    else:
        attack_type = "unknown"
    for kind in draft.vague:
        # "A number of US personnel are being evaluated; one Iraqi was wounded": no total.
        setattr(draft, kind, Casualties())
    outcome = draft.outcome or "unknown"
    if outcome == "unknown" and any(c and c.total for c in (draft.killed, draft.wounded)):
        outcome = "impact"
    # A span longer than a week ("earlier this year") cannot say the attack was recent.
    recent = (
        span.precision != "month"
        and (today - span.end).days <= RECENT_DAYS
        and (span.end - span.start).days <= RECENT_DAYS
    )
    return Event(
        date_start=span.start,
        date_end=span.end,
        date_precision=span.precision,
        recent=recent,
        site=draft.site,
        location_text=draft.location_text,
        attack_type=attack_type,
        munitions=draft.munitions or Munitions(),
        outcome=outcome,
        killed=draft.killed or Casualties(),
        wounded=draft.wounded or Casualties(),
        perpetrator=draft.perpetrator,
        evidence=tuple(draft.evidence),
    )


def extract_events(
    text: str,
    published: datetime,
    url: str | None = None,
    gazetteer: Gazetteer | None = None,
) -> list[Event]:
    """Return the attacks on US-hosting sites that the article text reports or recalls.

    ``published`` is the article's publication datetime; relative dates resolve against it in
    its own timezone (a naive datetime is taken as UTC). ``url`` is accepted for callers that
    log or trace; the rules do not depend on it.
    """
    del url
    if published.tzinfo is None:
        published = published.replace(tzinfo=UTC)
    gazetteer = gazetteer or default_gazetteer()
    vocab = default_vocabulary()
    # The memos only spare reading a one-clause sentence twice; they hold no other article.
    _types_cached.cache_clear()
    _find_negative.cache_clear()
    today = local_date(published)
    drafts: list[_Draft] = []
    last: _Draft | None = None  # the event the previous sentence spoke of
    recent_types: list[list[str]] = []  # weapon words of the last sentences, for "the attack"
    narrative: DateSpan | None = None  # the date of the attack the text spoke of last
    narrative_at = (0, 0)  # (paragraph, sentence) where the text gave that date
    paragraph_no = 0
    last_site: SiteMatch | None = None  # the site the text named last, for "the same base"
    named: list[tuple[int, SiteMatch]] = []  # (sentence, site) as the text names them
    order = 0

    group: list[_Draft] = []  # the events the last clause named together ("X and Y")
    last_toll: tuple[str, Casualties] | None = None  # the casualty figure the text gave last
    blanket: list[DateSpan | None] = []  # dates of "none of the attacks caused casualties"
    denied: list[DateSpan] = []  # dates of "no US facilities were targeted"
    pending: list[_Clause] = []  # a headline's figures, before any event is open
    mission_towns: tuple[str, ...] = ()  # towns with a US mission named so far ("BAGHDAD - ")
    us_story = False  # the text has spoken of US forces or bases under attack
    after_negative = False  # the last sentence was only a US strike, a threat, ...
    held: list[_Clause] = []  # this sentence's attack clauses that named no site
    elsewhere: set[str] = set()  # names of places with no US presence ("a camp at Bashiqa")
    heading_at = -1  # the order of the last one-line heading ("2) X - posted Wednesday")
    for paragraph in split_paragraphs(text):
        paragraph_no += 1
        last = None  # a new paragraph does not continue the previous one's event
        if len(paragraph) <= HEADING_CHARS and "\n" not in paragraph.strip():
            heading_at = order + 1
        for sentence in split_sentences(paragraph):
            order += 1
            touched: _Draft | None = None
            carried_date: DateSpan | None = None
            sentence_types = _read_types(sentence, vocab)
            context = next(
                (t for ts in [sentence_types, *reversed(recent_types[-2:])] for t in ts), None
            )
            # Sites are found once per sentence (the gazetteer pattern is the costly part), so
            # "missiles fired at Erbil, and ... the US consulate was the target" names the
            # consulate, not the town's base; each clause keeps the sites inside it.
            negative_before = False  # a clause of this sentence was a US strike, a threat, ...
            us_story = us_story or bool(
                US_FORCES_RE.search(sentence) or US_SITE_RE.search(sentence)
            )
            sentence_sites = gazetteer.find_sites(sentence, on=today, towns=mission_towns)
            mission_towns += tuple(gazetteer.mission_towns(sentence, on=today))
            sentence_sites = [m for m in sentence_sites if not _owns(sentence, m, sentence_sites)]
            sentence_sites = [m for m in sentence_sites if not _contains(m, sentence_sites)]
            cursor = 0
            for clause_text in _split_by_site(sentence, sentence_sites):
                start = sentence.find(clause_text, cursor)
                cursor = start + len(clause_text)
                sites = [m for m in sentence_sites if start <= m.start < cursor]
                sites = [
                    m
                    for m in sites
                    if not _speaks(sentence, m) and not _locates(sentence, m, sites)
                ]
                if not sites and last_site is not None:
                    same = SAME_SITE_RE.search(clause_text)
                    if same:
                        sites = [SiteMatch(last_site.site, same.group(0), start + same.start())]
                    else:
                        sites = _refer_site(THE_BASE_RE.search(clause_text), named, order, start)
                        sites = [
                            m
                            for m in sites
                            if not _speaks(sentence, m) and not _locates(sentence, m, sites)
                        ]
                    if (
                        not sites
                        and named
                        and named[-1][0] >= order - 1
                        and (it := IT_HIT_RE.search(clause_text))
                    ):
                        # "At-Tanf has been their preferred target. On Oct. 20 it was hit by
                        # drones": the site the sentence before named
                        before = named[-1][1]
                        sites = [SiteMatch(before.site, before.text, start + it.start())]
                there = False  # the clause names a place of no US presence named before
                site_before, named_before = last_site, len(named)
                if sites:
                    last_site = sites[-1]
                    named += [(order, m) for m in sites]
                elif (
                    (
                        (other := OTHER_PLACE_RE.search(clause_text))
                        and not CALLED_RE.search(clause_text, 0, other.start())
                    )
                    or (there := any(p in clause_text for p in elsewhere))
                ) and not (
                    US_SITE_RE.search(clause_text)
                    or US_FORCES_RE.search(clause_text)
                    or US_HURT_RE.search(clause_text)
                ):
                    # "rockets struck a military camp at Bashiqa": another place; "the camp"
                    # after it is that one, and the attack there is none of ours, nor is a
                    # later one "at Bashiqa".
                    last_site = None
                    if other and (named_at := PLACE_NAME_RE.match(clause_text, other.end())):
                        elsewhere.add(named_at.group("name"))
                    if vocab.attack.search(clause_text) or (
                        there and find_casualties(clause_text) != CasualtyFigures()
                    ):
                        touched = last = None
                        negative_before = True  # "..., and a child was wounded nearby": its toll
                        continue
                kept, negative = _split_negative(
                    clause_text, [m.start - start for m in sites], vocab
                )
                if negative is None and kept != [(0, len(clause_text))]:
                    # Read the clause without its parts about a US strike (or a threat ...).
                    all_sites = sites
                    sites = [m for m in sites if any(a <= m.start - start < b for a, b in kept)]
                    clause_text = " ".join(clause_text[a:b].strip(" ,") for a, b in kept)
                    if all_sites and not sites:
                        # "..., days after the US killed Soleimani at Baghdad airport, Iran fired
                        # missiles at the base": the base is the one named before the strike's.
                        last_site = site_before
                        del named[named_before:]
                        sites = _refer_site(THE_BASE_RE.search(clause_text), named, order, start)
                        if sites:
                            last_site = sites[-1]
                            named += [(order, m) for m in sites]
                clause = _read_clause(clause_text, sentence, sites, published, vocab, narrative)
                clause.negative = negative
                last_toll = _share_toll(clause, last_toll)
                if clause.date is None and SAME_DAY_RE.search(clause_text):
                    clause.date = narrative  # "two drone attacks took place the same day"
                carried = clause.date is None and carried_date is not None
                if clause.date is None:
                    clause.date = carried_date
                carried_date = clause.date
                if clause.date is not None:
                    narrative = clause.date  # "The answer came on Sunday ... Hours later, rockets"
                    narrative_at = (paragraph_no, order)
                if clause.negative:
                    touched = None
                    last = None
                    negative_before = True
                    continue
                if (
                    (negative_before or (after_negative and touched is None))
                    and not clause.sites
                    and not clause.is_attack
                ):
                    # "... was killed in the American strikes, while the government said one
                    # of its soldiers died", "US jets struck three facilities. Four fighters
                    # were killed.": the strike's toll goes on.
                    if MILITANT_TOLL_RE.search(clause.text):
                        negative_before = True  # and may go on in the next sentence
                    continue
                if (
                    after_negative
                    and touched is None
                    and not clause.sites
                    and (clause.killed or clause.wounded)
                    and REVISED_RE.search(clause.text)
                ):
                    continue  # "... By Thursday that had grown to four fighters killed"
                if not clause.sites and CAME_AFTER_RE.match(clause.text):
                    # "The launch came | a week after a strike on a fuel depot that killed three
                    # workers": the earlier act at a place the text does not name as ours
                    continue
                if not clause.sites and MILITANT_TOLL_RE.search(clause.text):
                    # "US helicopters hunted the launch teams ... two or three militants had been
                    # killed. By Thursday that had grown to four fighters killed": the answer's
                    # toll, not the attack's.
                    touched = last = None
                    negative_before = True
                    continue
                if NOT_CAUSED_RE.search(clause.text) and (touched or last) is not None:
                    # "A contractor died of a cardiac episode ... his death was not caused by an
                    # attack": the death is not the attack's toll.
                    target = touched or last
                    target.killed = target.killed_before
                    continue
                if NOT_TARGETED_RE.search(clause.text):
                    # "a White House spokesperson said no US personnel or facilities were
                    # targeted": whatever the rumours said, no attack on a US site that day.
                    denied.append(clause.date or narrative or _lead_span(today))
                    touched = last = None
                    continue
                if BLANKET_ZERO_RE.search(clause.text) and clause.killed and clause.wounded:
                    blanket.append(clause.date)  # "none of the attacks caused casualties"
                if clause.sites and not clause.is_attack:
                    # "..., and five on Erbil": the verb of the salvo is in the clause before.
                    clause.is_attack = any(_munitions_share(sentence, m) for m in clause.sites)
                generic = (
                    clause.date is None or clause.date.precision != "day"
                ) and clause.habitual
                if clause.sites and clause.is_attack:
                    if len(clause.sites) > 1:
                        # "Drones hit al-Tanf and Ain al-Asad, wounding 24": one figure for two
                        # sites cannot be split, so neither event gets it.
                        clause.munitions = clause.killed = clause.wounded = None
                    shared: list[_Draft] = []
                    whole = clause.munitions
                    for match in clause.sites:
                        # "22 missiles fell: 17 of them on Ain al-Asad ... and five on Erbil"
                        clause.munitions = _munitions_share(sentence, match) or whole
                        draft = _find_draft(drafts, match.site, clause.date)
                        if generic:
                            # "Rockets fall on the base every week, usually harmlessly" says
                            # nothing of this attack.
                            continue
                        if draft is None and _in_aside(sentence, match):
                            # "Thursday's attack - a drone of the kind flown at al-Tanf for
                            # months -": no attack there
                            continue
                        if draft is None and not generic:
                            # "A drone struck a US outpost ... The drone hit Tower 22": the site
                            # named later belongs to the event opened without one.
                            draft = _siteless_draft(drafts, clause.date, match.site)
                            if draft is not None:
                                draft.site, draft.location_text = match.site, match.text
                        if draft is None:
                            if generic:
                                continue
                            lead_date = next((c.date for c in pending if c.date), None)
                            if clause.date is None and lead_date is not None and not drafts:
                                # "A drone slammed into a base in Syria on Friday ... The drone
                                # hit Rumalyn": the lead's unplaced attack, placed.
                                clause.date = lead_date
                            if (
                                clause.date is None
                                and order <= LEAD_SENTENCES
                                and narrative is not None
                                and narrative_at == (paragraph_no, order - 1)
                            ):
                                # "A year ago today, Iran's missiles landed on Ain al-Asad. By
                                # the time the salvo ended, one had hit Erbil": that night too
                                clause.date = narrative
                            if clause.date is None and order > LEAD_SENTENCES:
                                # The story goes on in the same paragraph, or the sentence
                                # just before gave the date.
                                if narrative is None or not (
                                    narrative_at == (paragraph_no, order - 1)
                                    # a heading gave the date: "2) X - posted Wednesday"
                                    or narrative_at[1] == heading_at == order - 1
                                    or (
                                        narrative_at[0] == paragraph_no
                                        and order - narrative_at[1] <= THE_BASE_REACH
                                    )
                                ):
                                    continue
                                # "On Thursday it was the turn of Conoco. Three drones were
                                # fired at the base there": the date of the sentence before.
                                clause.date = narrative
                            draft = _Draft(
                                match.site, match.text, clause.date, order, context, narrative
                            )
                            draft.by_town = match.via_town and match.site.kind in BASE_KINDS
                            drafts.append(draft)
                        elif not match.via_town:
                            draft.by_town = False  # named outright now
                        draft.add(clause)
                        touched = draft
                        shared.append(draft)
                    group = shared if len(shared) > 1 else []
                elif (
                    len(clause.sites) == 1
                    and (unnamed := _unnamed(touched or last, drafts, order)) is not None
                    and IDENTIFY_RE.search(clause.text)
                    and _country_fits(unnamed, clause.sites[0].site)
                ):
                    # "A drone struck a US outpost in Jordan ... The outpost, known as Tower 22,"
                    target = unnamed
                    target.site, target.location_text = clause.sites[0].site, clause.sites[0].text
                    target.add(clause, weak=True)
                    touched = target
                elif (
                    clause.is_attack
                    and clause.date is not None
                    and not carried  # the sentence's own date, not its earlier clause's
                    and not generic
                    and any(d.date is None for d in drafts)
                ):
                    # "Missiles hit Ain al-Asad and Erbil" (headline) ... "Iran fired missiles at
                    # two bases early on Wednesday": the date belongs to the undated events.
                    for draft in (d for d in drafts if d.date is None):
                        draft.add(clause)
                        draft.date_lent = True
                        touched = draft
                elif (
                    clause.is_attack
                    and not clause.habitual
                    and us_story
                    and (counted := COUNTED_BASES_RE.search(clause.text)) is not None
                    and (clause.date is not None or narrative_at[1] >= order - 1)
                ):
                    # "In north-eastern Syria, two bases came under fire": an attack of the
                    # story's day at places it does not name.
                    draft = _Draft(
                        None, _place(clause.text, counted), clause.date or narrative, order, context
                    )
                    drafts.append(draft)
                    draft.add(clause)
                    touched = draft
                elif clause.is_attack and clause.date is not None:
                    draft = next(
                        (
                            d
                            for d in reversed(drafts)
                            if d.date
                            and d.date.precision == clause.date.precision
                            and _dates_meet(d.date, clause.date)
                            # "Yesterday a drone hit a base of the coalition in Hasakah" after
                            # today's rockets at al-Omar: another base, another day
                            and not (clause.us_site_text and d.site and d.date != clause.date)
                        ),
                        None,
                    )
                    near = touched or last or _main(drafts)
                    if (
                        draft is None
                        and clause.definite
                        and near is not None
                        and near.date is not None
                        and clause.date.precision == "day" != near.date.precision
                        and near.date.start <= clause.date.start <= near.date.end
                    ):
                        draft = near  # "a weekend attack on the embassy" ... "The attack on Sunday"
                    if (
                        draft is None
                        and clause.definite
                        and clause.perpetrator is not None
                        and clause.perpetrator.status == "claimed"
                        and near is not None
                        and near.date is not None
                        and 0 <= (clause.date.start - near.date.end).days <= 2
                    ):
                        # "The group claimed the strike on Monday": the day of the claim.
                        near.add(_copy(clause, date=None), weak=True)
                        touched = near
                        continue
                    if draft is None and clause.us_site_text and not clause.habitual:
                        draft = _Draft(None, clause.us_site_text, clause.date, order, context)
                        drafts.append(draft)
                    if draft is not None:
                        draft.add(clause)
                        touched = draft
                    elif order <= LEAD_SENTENCES and not drafts and not generic:
                        # '"We were hit by three drones last night. ..." an official at the
                        # base at Erbil airport said': the place comes in the next sentence.
                        pending.append(clause)
                    elif not generic:
                        # "Late on Sunday a drone came in from the west, and struck the base
                        # at al-Omar": the place comes in a later clause of the sentence.
                        held.append(clause)
                elif len(clause.sites) == 1 and clause.has_details and not generic:
                    # "One US service member at Conoco was treated for a minor injury": a detail
                    # of the attack at the site it names.
                    draft = _find_draft(drafts, clause.sites[0].site, clause.date)
                    at_site = [d for d in drafts if d.site and d.site.id == clause.sites[0].site.id]
                    if draft is None and len(at_site) == 1 and not clause.is_attack:
                        # "The Pentagon said on Friday that 34 troops at Ain al-Asad had been
                        # diagnosed with brain injuries": a later toll of the one attack there.
                        draft = at_site[0]
                    if draft is not None:
                        draft.add(clause, weak=True)
                        touched = draft
                elif clause.date is None and EARLIER_ATTACK_RE.search(clause.text):
                    # "The earlier attack killed two Americans": another attack than this one.
                    touched = None
                elif ((clause.is_attack and clause.definite) or clause.has_details) and not generic:
                    # The event this sentence already spoke of, else the previous sentence's.
                    target = touched or last or _main(drafts)
                    if target is not None and target in group:
                        # "Missiles hit Ain al-Asad and Erbil; no one was killed, but 100 were
                        # hurt": only "none" can be said of each of them.
                        for draft in group:
                            draft.add(_zero_only(clause), weak=True)
                    elif target is not None:
                        target.add(clause, weak=True)
                    elif order <= LEAD_SENTENCES and not drafts:
                        # "Drone kills three US soldiers" (headline) before the text names the
                        # place: the figures wait for the lead's event.
                        pending.append(clause)
                    elif _only_zeros(clause) and clause.killed and clause.wounded:
                        # "Three bases were attacked ... There were no injuries": of them all.
                        blanket.append(narrative)
                    touched = target or touched
            after_negative = negative_before and touched is None
            if touched is not None and touched.order == order:
                for clause in held:  # an event this sentence opened takes its unplaced clauses
                    if _dates_meet(clause.date, touched.date):
                        touched.add(clause)
            held = []
            if pending and len(drafts) == 1:
                for clause in pending:
                    drafts[0].add(clause, weak=True)
                pending = []
            if touched is not None and touched.date in (None, narrative):
                narrative_at = (paragraph_no, order)  # the story of that day goes on
            last = touched
            if touched is None or touched not in group:
                group = []
            recent_types.append(sentence_types)

    drafts = [d for d in drafts if not any(_dates_meet(d.date, when) for when in denied)]
    for when in blanket:
        for draft in drafts:
            if draft.killed is None and draft.wounded is None and _dates_meet(draft.date, when):
                draft.killed = draft.wounded = Casualties(0, 0)
    _place_at_airport(drafts, named)
    drafts = _fold_town(_fold_contained(_fold_siteless(drafts, today), today), today)
    events = [_finish(d, today) for d in sorted(drafts, key=lambda d: d.order)]
    return [e for e in events if e is not None]


def _contains(match: SiteMatch, sites: list[SiteMatch]) -> bool:
    """Return True if the site is the airport or zone that holds another site named with it
    ("drones approached Baghdad airport, where the Victory base hosts US forces")."""
    rank = CONTAINER_RANK.get(match.site.kind, 0)
    return any(
        CONTAINER_RANK.get(other.site.kind, 0) < rank
        and distance_km(match.site, other.site) <= CONTAINED_KM
        for other in sites
        if other.site.id != match.site.id
    )


def _locates(sentence: str, match: SiteMatch, sites: list[SiteMatch]) -> bool:
    """Return True if the site only says where another one named just before it lies ("the US
    embassy compound in Baghdad's Green Zone", "Victory base near Baghdad airport")."""
    for other in sites:
        end = other.start + len(other.text)
        if other is match or end > match.start:
            continue
        between = sentence[end : match.start]
        if LOCATIVE_RE.fullmatch(between):
            return True
    return False


def _owns(sentence: str, match: SiteMatch, sites: list[SiteMatch]) -> bool:
    """Return True if the site only owns what the sentence tells of while another site is the
    place hit ("rockets landed in the Green Zone, setting off the embassy's guns")."""
    if not OWNER_RE.match(sentence, match.start + len(match.text)):
        return False
    cursor = 0
    for clause in split_clauses(sentence):
        start = sentence.find(clause, cursor)
        cursor = start + len(clause)
        if start <= match.start < cursor:
            return any(m.site.id != match.site.id and start <= m.start < cursor for m in sites)
    return False


def _speaks(sentence: str, match: SiteMatch) -> bool:
    """Return True if the site is the one speaking ("the US embassy condemned ...")."""
    after = sentence[match.start + len(match.text) :]
    before = sentence[max(0, match.start - 40) : match.start]
    return bool(SPEAKER_RE.match(after.lstrip(" ,"))) and not SPEAKER_BEFORE_RE.search(before)


def _refer_site(
    the: re.Match[str] | None, named: list[tuple[int, SiteMatch]], order: int, offset: int
) -> list[SiteMatch]:
    """Return the site "the base" / "the embassy" stands for: the latest named one of its kind
    (a base within the last two sentences), or nothing."""
    if the is None:
        return []
    noun = the.group("noun").lower()
    kinds = NOUN_KINDS.get(noun, BASE_KINDS)
    place = the.group("place")
    for said, match in reversed(named):
        if noun in NOUN_KINDS and noun != "compound":
            pass  # a mission is one per article: any distance
        elif order - said > THE_BASE_REACH:
            break
        if place and not WIDE_PLACE_RE.match(place) and not _lies_in(match.site, place):
            return []  # "the camp at Bashiqa": another place
        if match.site.kind in kinds:
            return [SiteMatch(match.site, the.group(0), offset + the.start())]
        if noun not in NOUN_KINDS:
            break  # "the base" is the site named last, or none
    return []


def _lies_in(site: Site, place: str) -> bool:
    """Return True if the place is the site's town or province ("north of Baghdad")."""
    return place.lower() in {(site.town or "").lower(), (site.province or "").lower()}


def _split_by_site(sentence: str, sites: list[SiteMatch]) -> list[str]:
    """Return the sentence's clauses, a clause cut further where its parts name different sites.

    "A drone was downed at the embassy early on Monday, hours after a rocket struck near
    Baghdad airport": two acts, each with its own site, weapon and figures.
    """
    clauses: list[str] = []
    cursor = 0
    for clause in split_clauses(sentence):
        start = sentence.find(clause, cursor)
        cursor = start + len(clause)
        inside = [m.start - start for m in sites if start <= m.start < cursor]
        if len(inside) < 2:
            clauses.append(clause)
            continue
        bounds = [0, *(_cut(m) for m in SEGMENT_RE.finditer(clause)), len(clause)]
        parts = [(a, b) for a, b in pairwise(bounds) if b > a]
        named = [p for p in parts if any(p[0] <= at < p[1] for at in inside)]
        if len(named) < 2:
            clauses.append(clause)
            continue
        # Parts before the first named one (a dateline) stay with it; later unnamed parts stay
        # with the part before them.
        cuts = [0] + [a for a, _ in named[1:]] + [len(clause)]
        clauses += [clause[a:b] for a, b in pairwise(cuts) if b > a]
    return clauses


def _main(drafts: list[_Draft]) -> _Draft | None:
    """Return the article's main event: its only one, else the one its lead reported (later
    paragraphs' figures are of the news, not of the history recalled after it)."""
    lead = [d for d in drafts if d.order <= LEAD_SENTENCES]
    return _only(drafts) or (lead[0] if len(lead) == 1 else None)


def _only(drafts: list[_Draft]) -> _Draft | None:
    """Return the article's one event so far: later details in a one-attack story are its."""
    return drafts[0] if len(drafts) == 1 else None


def _lead_span(today: date) -> DateSpan:
    """Return the dates of an undated attack in an article's lead: yesterday or today."""
    return DateSpan(today - timedelta(days=1), today, "range", "")


def _siteless_draft(drafts: list[_Draft], when: DateSpan | None, site: Site) -> _Draft | None:
    """Return the newest event still without a site whose date and country can match."""
    for draft in reversed(drafts):
        if draft.site is None and _dates_meet(draft.date, when) and _country_fits(draft, site):
            return draft
    return None


def _unnamed(near: _Draft | None, drafts: list[_Draft], order: int) -> _Draft | None:
    """Return the event without a site the text reported just before (within two sentences)."""
    if near is not None:
        return near if near.site is None else None
    if drafts and drafts[-1].site is None and order - drafts[-1].order <= THE_BASE_REACH:
        return drafts[-1]
    return None


def _country_fits(draft: _Draft, site: Site) -> bool:
    """Return False if the event's first sentence places it in countries other than the site's."""
    said = draft.evidence[0] if draft.evidence else draft.location_text
    named = {code for code, pattern in COUNTRY_RES.items() if pattern.search(said)}
    return not named or site.country in named


def _fold_siteless(drafts: list[_Draft], today: date) -> list[_Draft]:
    """Merge an event without a site into the one event at a named site on the same dates."""
    _undated = _lead_span(today)
    kept = [d for d in drafts if d.site is not None]
    for draft in (d for d in drafts if d.site is None):
        matches = [
            d
            for d in kept
            if _dates_meet(d.date or _undated, draft.date or _undated)
            and d.site is not None
            and _country_fits(draft, d.site)
            # "Yesterday a drone hit a base of the coalition in Hasakah": not today's base
            and not _other_days(d.date, draft.date)
        ]
        if len(matches) != 1:
            kept.append(draft)
            continue
        _merge_into(matches[0], draft)
    return kept


# "a base of the coalition | in the countryside of al-Hasakah", "a coalition base | near Hasakah"
PLACE_AFTER_RE = re.compile(
    r"\s+(?:at|on|near)\s+the\s+(?:city's\s+)?airport(?:\s+grounds)?\b|"
    r"\s+(?:in|near|outside)\s+(?:the\s+)?(?:(?i:countryside|province|outskirts|desert|area)\s+of\s+)?"
    r"(?:(?i:north|south|east|west)[\w-]*\s+)?(?:al-)?[A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?"
)


def _with_place(text: str, us_site: re.Match[str]) -> str:
    """Return the words naming an unnamed US site, with the place right after them."""
    place = PLACE_AFTER_RE.match(text, us_site.end())
    return text[us_site.start() : place.end()] if place else us_site.group(0)


def _site_date(
    text: str, sites: list[SiteMatch], published: datetime, anchor: DateSpan | None
) -> DateSpan | None:
    """Return the clause's date: that of the part naming its site when the clause is in parts
    ("stood down in February | after the 28 January drone strike on Tower 22"), else its first."""
    date = find_date(text, published, anchor)
    if date is None or len(sites) != 1:
        return date
    at = text.find(sites[0].text)
    bounds = [0, *(_cut(m) for m in SEGMENT_RE.finditer(text)), len(text)]
    if at < 0 or len(bounds) == 2:
        return date
    for a, b in pairwise(bounds):
        if a <= at < b:
            own = find_date(text[a:b], published, anchor)
            return own or date
    return date


def _in_aside(sentence: str, match: SiteMatch) -> bool:
    """Whether the site is named inside a dash or bracket aside of the sentence."""
    if " - " not in sentence and "(" not in sentence and "–" not in sentence:
        return False
    return any(a.start() <= match.start < a.end() for a in ASIDE_RE.finditer(sentence))


def _place_at_airport(drafts: list[_Draft], named: list[tuple[int, SiteMatch]]) -> None:
    """Give "the coalition base at the airport" the article's one airport base, if it named one
    ("the coalition's base at Erbil airport ... In September, drones were flown at the
    coalition base at the airport")."""
    unplaced = [d for d in drafts if d.site is None and "airport" in d.location_text.lower()]
    if not unplaced:
        return
    airports = {
        m.site.id: m.site
        for _, m in named
        if m.site.kind in BASE_KINDS and "airport" in m.text.lower()  # named as an airport
    }
    if len(airports) == 1:
        (site,) = airports.values()
        for draft in unplaced:
            draft.site = site


def _other_days(a: DateSpan | None, b: DateSpan | None) -> bool:
    """Whether both dates are days, and not the same one."""
    return bool(a and b and a.precision == b.precision == "day" and a.start != b.start)


def _fold_town(drafts: list[_Draft], today: date) -> list[_Draft]:
    """Merge an event whose site is only "the base in that town" into the one event at a site
    in the same town that the text names outright, on the same dates ("missiles fired on Erbil"
    ... "the area around the US consulate was struck")."""
    _undated = _lead_span(today)
    kept: list[_Draft] = []
    for draft in drafts:
        named = [
            d
            for d in drafts
            if draft.by_town
            and d is not draft
            and not d.by_town
            and d.site is not None
            and draft.site is not None
            and d.site.town == draft.site.town
            and _dates_meet(d.date or _undated, draft.date or _undated)
        ]
        if len(named) == 1:
            _merge_into(named[0], draft)
        else:
            kept.append(draft)
    return kept


def _fold_contained(drafts: list[_Draft], today: date) -> list[_Draft]:
    """Merge an event at an airport or zone into the one at a site it holds on the same dates
    ("Rockets hit Baghdad airport" ... "the Victory base there")."""
    _undated = _lead_span(today)
    kept: list[_Draft] = []
    for draft in drafts:
        rank = CONTAINER_RANK.get(draft.site.kind, 0) if draft.site else 0
        inner = [
            d
            for d in drafts
            if rank
            and d.site is not None
            and CONTAINER_RANK.get(d.site.kind, 0) < rank
            and distance_km(d.site, draft.site) <= CONTAINED_KM
            and _dates_meet(d.date or _undated, draft.date or _undated)
        ]
        if len(inner) == 1:
            _merge_into(inner[0], draft)
        else:
            kept.append(draft)
    return kept


def _merge_into(target: _Draft, draft: _Draft) -> None:
    """Add what one draft holds to another that reports the same attack."""
    for sentence in draft.evidence:
        if sentence not in target.evidence:
            target.evidence.append(sentence)
    target.types += [t for t in draft.types if t not in target.types]
    target.munitions = target.munitions or draft.munitions
    target.outcome = target.outcome or draft.outcome
    target.killed = _merge_casualties(target.killed, draft.killed)
    target.wounded = _merge_casualties(target.wounded, draft.wounded)
    target.perpetrator = _merge_perpetrator(target.perpetrator, draft.perpetrator)
    target.order = min(target.order, draft.order)
    if draft.date and (target.date is None or target.date.precision != "day"):
        target.date = draft.date


def _find_draft(drafts: list[_Draft], site: Site, when: DateSpan | None) -> _Draft | None:
    """Return the open event at this site that this date can belong to, newest first."""
    for draft in reversed(drafts):
        if draft.site is None or draft.site.id != site.id:
            continue
        if when is None or draft.date is None:
            return draft
        if draft.date.precision == when.precision and _dates_meet(draft.date, when):
            return draft
        if when.precision == "month" and draft.date.precision != "month":
            continue
        if when.precision == "range" and draft.date.precision == "day":
            # "last week" holds Monday's attack only if Monday falls inside it: a range is
            # already as wide as the words allow.
            if when.start <= draft.date.start <= when.end:
                return draft
            continue
        if _dates_meet(draft.date, when) and when.precision != "month":
            return draft
    return None
