"""Read numbers from a clause: munition counts and killed/wounded with the US share."""

from __future__ import annotations

import re
from dataclasses import dataclass

from extract.model import Casualties, Munitions

__all__ = [
    "PEOPLE_SHARE_RE",
    "VAGUE_US_RE",
    "CasualtyFigures",
    "find_casualties",
    "find_munitions",
    "find_us_share",
    "parse_number",
]

NUMBER_WORDS = {
    "a": 1, "an": 1, "another": 1, "one": 1, "single": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12, "a dozen": 12,
    "a pair of": 2, "a couple of": 2, "pair of": 2, "couple of": 2, "both": 2,
}  # fmt: skip
_WORD_NUM = (
    r"(?:two|three|four|five|a) dozen|(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[- ](?:one|two|three|four|five|"
    r"six|seven|eight|nine))?|a dozen|a pair of|a couple of|eleven|twelve|thirteen|fourteen|"
    r"fifteen|sixteen|seventeen|eighteen|nineteen|one|two|three|four|five|six|seven|eight|nine|"
    r"ten|dozen|single|an|a"
)
NUM = rf"(?:\d{{1,4}}|{_WORD_NUM})"
QUALIFIER = r"(?P<q>at least|not less than|no less than|no fewer than|not fewer than|an estimated|more than|over|up to|nearly|almost|about|around|some|roughly|approximately|as many as|fewer than|less than)\s+"
MUNITION_RE = re.compile(
    # "another drone hit the base": one more (not "another three rockets")
    rf"(?<![\w-])(?:{QUALIFIER})?(?:between\s+)?(?P<n>{NUM}|another(?!\s+{NUM}\b))"
    # "two to three", "10-12"; not "Feb 5 - An explosive drone" (a dateline, then an article)
    rf"(?:\s*(?:to|or|and|-|–)\s*(?!(?:an?|another)\b)(?P<n2>{NUM}))?\s+"
    # "three of the rockets": part of a salvo, so at least that many.
    r"(?:(?P<of>of\s+(?:the|those|these)\s+)|of\s+(?:its|their)\s+)?"
    # "a day after rockets hit": words of time or place between a count and a weapon break it.
    r"(?:(?!of\b|salvos?\b|barrages?\b|volleys?\b|waves?\b|series\b|number\b|days?\b|weeks?\b|"
    r"months?\b|years?\b|hours?\b|minutes?\b|times?\b|after\b|before\b|since\b|later\b|ago\b|"
    r"when\b|with\b|by\b|from\b|at\b|on\b|in\b|than\b|first\b|second\b|third\b|fourth\b|"
    # ("eighteen 107mm rockets": a calibre is no number)
    r"fifth\b|final\b|last\b|further\b|\d(?!\d*(?:mm\b|-?millimet)))[\w-]+\s+){0,2}?"
    r"(?P<w>rockets?|katyushas?|mortar (?:rounds|shells|bombs)|mortars?|drones?|missiles?|projectiles?"
    r"|shells|UAVs?|rounds|unmanned aerial (?:vehicles?|systems?)|aerial vehicles?)\b(?!\s+(?:attacks?|strikes?|fire|launchers?|sites?|salvos?|barrages?)\b)"
    # "150 drone and rocket attacks": a count of attacks
    r"(?!\s+(?:and|or)\s+[\w-]+\s+(?:attacks?|strikes?)\b)",
    re.IGNORECASE,
)
PEOPLE = (
    r"(?:soldiers?|troops?|service ?members?|servicemen|servicemembers?|personnel|contractors?|"
    r"civilians?|people|persons?|members?|guards?|marines?|sailors?|airmen|fighters?|staff(?:ers)?|"
    r"service ?wom[ae]n|servicewom[ae]n|"
    r"employees?|workers?|children|others?|individuals?|americans|citizens?|nationals?|"
    r"officers?|police(?:men)?|military advisers?|advisers?|advisors?|britons?|iraqis?|"
    r"filipinos?|syrians?|kurds?|americans?|reservists?|interpreters?|linguists?|commandos?|wom[ae]n|m[ae]n|"
    r"boys?|girls?|child|medics?|doctors?|nurses?|pilots?|engineers?|trainers?)(?!\w)"
)
NATIONALITY = (
    r"(?:U\.?S\.?|American|British|U\.?K\.?|Iraqi|Syrian|Kurdish|Jordanian|coalition|Filipino|"
    r"foreign|civilian|Italian|Spanish|French|German|Australian|Polish|Danish|Norwegian|Dutch|"
    r"Canadian|local|private|security|defen[cs]e|military|army|Peshmerga|SDF)"
)
# Nationalities and forces that say a person is not a US citizen (not "Kurdish", which may be).
FOREIGN_RE = re.compile(
    r"\b(?:Iraqis?|British|Britons?|Filipinos?|Turkish|Syrians?|Jordanians?|Italians?|Spanish|"
    r"French|German|Australians?|Polish|Danish|Norwegian|Dutch|Canadians?|Nepal(?:i|ese)|Indians?|"
    r"Pakistanis?|SDF|Peshmerga|Syrian Democratic Forces|partner(?: force)?s?)\b",
    re.IGNORECASE,
)
# "two women and three children were killed" (a family home near the base): local people.
LOCALS_RE = re.compile(
    r"\b(?:wom[ae]n|child(?:ren)?|boys?|girls?|family|villagers?|residents?)\b", re.IGNORECASE
)
# "a US soldier", not "fighters of the US-backed SDF"
US_RE = re.compile(
    r"(?<!non-)\b(?>U\.?S\.?|Americans|American)(?!\w|-(?:backed|led|allied|trained|supported|funded))"
)
# "34 service members were injured", "three Army Reserve soldiers": words only the US military
# uses of its own people, with no other nationality before them.
US_WORD_RE = re.compile(
    r"(?:(?:Army\s+)?Reserve\s+|(?:more\s+|other\s+)?)?(?:service ?members?|servicemembers?|servicemen|"
    r"service ?wom[ae]n|(?:Army\s+)?reservists?|Marines|Army\s+Reserve\s+soldiers?)",
    re.IGNORECASE,
)
# "killed three coalition members - two Americans and a Briton": the US share in an aside.
US_SHARE_RE = re.compile(
    rf"\s*(?:,\s*including|\s[-–—]|\(|:)\s*(?:including\s+)?(?P<n>{NUM})\s+(?:of them\s+)?"
    r"(?:\w+\s+)?(?:U\.?S\.?|Americans?)\b",
    re.IGNORECASE,
)
# "two American troops", "an American civilian contractor", "34 others"
# Not "a number of citizens" (no count) nor "one of its members" (the attackers' own dead).
GROUP = (
    # not "who was not a US citizen": what a person is not
    rf"(?<![\w-])(?<!\bnot\s)(?:{QUALIFIER})?(?<![\w-])(?P<n>{NUM}|another(?!\s+{NUM}\b))\s+"
    r"(?!(?:(?:small|large|big|growing|unknown|unspecified|limited)\s+)?(?:number|group|handful|few|"
    r"lot|team|unit)\b|of\s+(?:its|their|the\s+(?:group|militia|"
    # "..., two of them officers": a share of the group before, not another group
    r"militants|attackers)['’]?s?)\b|of\s+(?:them|those|these|whom)\b)"
    # "three US Army Special Forces trainers": a unit's two-word name is one word here
    rf"(?P<who>(?:(?!including\b|among\b)(?:{NATIONALITY}|Special\s+Forces|Air\s+Force|"
    rf"[a-z]+-?[a-z]*)\s+){{0,3}}?{PEOPLE}"
    rf"(?:\s+{PEOPLE})?"
    # "a member of the Iraqi security forces", "one is a member of the US army"
    rf"(?:\s+of\s+(?:the\s+)?(?:[\w.'’-]+\s+){{1,3}}?(?:forces?|army|military|police|contingent)\b)?)"
)
GROUP_RE = re.compile(GROUP, re.IGNORECASE)
KILL = r"(?:killed|killing|kills|kill|dead|died|deaths?)"
WOUND = r"(?:wounded|wounding|wounds|injured|injuring|injuries|injures|hurt|hurting|casualties|(?:traumatic )?brain injur(?:y|ies)|TBI)"
AFTER_VERB_RE = re.compile(
    # "caused minor injuries to two US service members", "the death of a US contractor"
    rf"\b(?P<verb>{KILL}|{WOUND}|injury(?=\s+of\b))\s+(?:(?:to|of|among)\s+)?(?P<list>{GROUP}(?:(?:,\s*|\s+and\s+|\s+as well as\s+){GROUP.replace('?P<n>', '').replace('?P<who>', '').replace('?P<q>', '')})*)",
    re.IGNORECASE,
)
BEFORE_VERB_RE = re.compile(
    rf"(?P<list>{GROUP}(?:(?:,\s*|\s+and\s+){GROUP.replace('?P<n>', '').replace('?P<who>', '').replace('?P<q>', '')})*)"
    # "The interpreter, who worked for a US contractor, was killed": an aside between the two.
    rf"(?:\s*,[^,;]{{1,100}},)?\s+(?:(?!(?:said|says|told|reported|nobody|no|none|but)\b)[\w-]+\s+){{0,4}}?(?:(?:were|was|had been|have been|are|is|being|got)\s+)?(?:\w+\s+)?(?P<verb>{KILL}|{WOUND}|suffered|sustained|treated|evaluated|diagnosed)\b"
    rf"(?:\s+(?:for\s+|from\s+|with\s+)?(?:an?\s+)?(?:minor\s+|mild\s+|serious\s+)?(?P<verb2>{WOUND}|injur\w*|wounds|concussions?))?",
    re.IGNORECASE,
)
BARE_COUNT_RE = re.compile(
    rf"(?<![\w-])(?<!no )(?<!No )(?:{QUALIFIER})?(?P<n>\d{{1,4}}|{_WORD_NUM})\s+"
    rf"(?:more\s+|others?\s+)?(?:were\s+|was\s+)?(?:\w+ly\s+)?(?P<verb>{KILL}|{WOUND})\b",
    re.IGNORECASE,
)
# "killing two and wounding five"
AFTER_BARE_RE = re.compile(
    rf"\b(?P<verb>killing|wounding|injuring|killed|wounded|injured)\s+(?:{QUALIFIER})?"
    rf"(?P<n>\d{{1,4}}|{_WORD_NUM})(?=\s*(?:[,.;]|and\b|or\b|$|(?:more|other|including)\b))",
    re.IGNORECASE,
)
# "left 20 Americans with minor injuries"
LEFT_WITH_RE = re.compile(
    rf"\bleft\s+(?P<list>{GROUP})\s+(?:with|nursing|suffering)\s+(?:\w+\s+)?(?P<verb>injuries|wounds|"
    rf"concussions|traumatic brain injuries)",
    re.IGNORECASE,
)
# "the number of troops hurt ... has risen to more than 40"
RISEN_RE = re.compile(
    # the figure's own verb, the last before it: not "killed three, and the number of injured"
    rf"\b(?P<verb>{KILL}|{WOUND})\b(?:(?!\b(?:{KILL}|{WOUND})\b)[^.;]){{0,140}}?\b(?:has |had |have )?(?:risen|rose|climbed|"
    rf"increased|grown|jumped|reached|reaching|now stands at|stood at) (?:to )?(?:{QUALIFIER})?(?P<n>\d{{1,4}}|{_WORD_NUM})\b"
    # "... rose to more than 40 American soldiers"
    r"(?P<us_after>\s+(?:U\.?S\.?|American)\s+)?",
    re.IGNORECASE,
)
# "put the number injured in the attack at eight"
NUMBER_AT_RE = re.compile(
    rf"\bnumber\s+(?:of\s+(?:\w+\s+)?)?(?P<verb>{KILL}|{WOUND})\b[^.;]{{0,80}}?\bat\s+"
    rf"(?:{QUALIFIER})?(?P<n>\d{{1,4}}|{_WORD_NUM})\b",
    re.IGNORECASE,
)
# "Twenty of them were at al-Tanf", "The remaining four were at Ain al-Asad": a site's share
# of a casualty figure given before.
PEOPLE_SHARE_RE = re.compile(
    rf"\b(?:(?P<n>{NUM})\s+of\s+(?:them|those|the\s+(?:\w+\s+)?(?:wounded|injured|dead|killed))|"
    rf"(?:the|all)\s+(?:remaining|other)\s+(?P<n2>{NUM}))\s+(?:were|was)\s+(?:\w+\s+)?(?:at|in|on)\b",
    re.IGNORECASE,
)
NOT_US_ASIDE_RE = re.compile(
    r"[^.;:]{0,60}?(?:[-–—,(]|\bwho was)\s*(?:(?:he|she) was\s+)?not an? (?:American|U\.?S\.?\s)",
    re.IGNORECASE,
)
# "wounded a US service member and several others": a count with no number after a figure.
VAGUE_TAIL_RE = re.compile(
    r"\s*,?\s*(?:and|as well as|plus)\s+(?:several|some|many|a number of|a few|dozens of|scores of|"
    rf"others?|an unknown number of)\b(?:\s+(?:[\w-]+\s+)?{PEOPLE})?"
    # "four American soldiers and contractor among injured" (a headline): a count left out
    rf"|\s+(?:and|plus)\s+(?:(?!(?:{NUM}|another)\b)[a-z-]+\s+)?{PEOPLE}(?!\s+(?:of|who|which)\b)",
    re.IGNORECASE,
)
# "A number of US personnel are being evaluated for brain injuries": a US toll with no count,
# so no total can be known.
VAGUE_US_RE = re.compile(
    rf"\b(?:a number of|several|some|many|dozens of|scores of|a few|an unknown number of)\s+"
    rf"(?:(?:U\.?S\.?|American|coalition)\s+)(?:[\w-]+\s+)?{PEOPLE}[^.;]{{0,60}}?"
    rf"(?:{WOUND}|{KILL}|evaluat\w+|treated|injur\w*)",
    re.IGNORECASE,
)
# "SDF spokesman Farhad Shami said six of the group's commandos were killed": the group is the
# partner force the clause names, not the attackers
PARTNER_RE = re.compile(
    r"\b(?:SDF|Syrian Democratic Forces|Peshmerga|Syrian Free Army|Maghaweir al-Thowra|partner)\b"
)
PARTNER_OWN_RE = re.compile(
    rf"(?<![\w-])(?P<n>\d{{1,4}}|{_WORD_NUM})\s+of\s+the\s+group['’]s\s+(?:[\w-]+\s+)?(?:commandos|"
    rf"fighters|members|soldiers|troops)\s+(?:were|had been|have been)\s+(?P<verb>{KILL}|{WOUND})\b",
    re.IGNORECASE,
)
# "raised the number to 34 injured among the service members"
AMONG_WHO_RE = re.compile(
    rf"(?<![\w-])(?:{QUALIFIER})?(?P<n>\d{{1,4}}|{_WORD_NUM})\s+(?P<verb>{WOUND}|{KILL})\s+among\s+"
    rf"(?:the\s+|its\s+|our\s+)?(?P<who>(?:[\w-]+\s+){{0,2}}?{PEOPLE})",
    re.IGNORECASE,
)
# "wounded several other people, among them one American": no total, a US share
VAGUE_AMONG_RE = re.compile(
    rf"\b(?P<verb>{KILL}|{WOUND})\s+(?:several|some|many|a number of|dozens of|scores of|a few)\s+"
    rf"(?:other\s+)?(?:[\w-]+\s+)?{PEOPLE},?\s+(?:among them|including)\s+(?P<n>{NUM})\s+"
    r"(?:U\.?S\.?|Americans?)\b",
    re.IGNORECASE,
)
# "The interpreter, who worked for a US contractor, was killed": one person, named by role.
SINGLE_RE = re.compile(
    rf"\b(?:the|an?|one|another)\s+(?P<who>(?:[\w-]+\s+){{0,2}}?{PEOPLE})"
    # "A contractor who was not a US citizen was killed"
    r"(?:\s*,[^,;]{1,100},|\s+(?P<rel>who\s+(?:was|is)\s+[^,;.]{1,50}?))?\s+"
    r"(?:was|had been|has been)\s+(?:\w+ly\s+)?(?P<verb>killed|wounded|injured|hurt)\b",
    re.IGNORECASE,
)
# "killed Nawres Hamid, an Iraqi-born American working as an interpreter": one person, named.
NAMED_RE = re.compile(
    r"\b(?P<verb>killed|killing|wounded|wounding|injured|injuring)\s+(?-i:[A-Z][a-z]+(?:\s+"
    r"(?:al-|bin\s+)?[A-Z][a-z'-]+){1,2}),\s+(?:an?|the|one)\s+(?P<who>[^,;.()]{0,60})",
    re.IGNORECASE,
)
# "an American contractor suffered a cardiac episode while sheltering and died": one death.
DIED_RE = re.compile(
    rf"\b(?:an?|one|another)\s+(?P<who>(?:[\w-]+\s+){{0,2}}?{PEOPLE})\s+(?P<mid>[^.;]{{0,120}}?)"
    r"\b(?:and\s+|then\s+|later\s+)?died\b",
    re.IGNORECASE,
)
PRIOR_US_RE = re.compile(
    rf"(?:\b(?:U\.?S\.?|American)\s+(?:[\w-]+\s+)?{PEOPLE}|\bservice ?members)\s+(?:were|had been|"
    rf"have been)\s+(?:\w+\s+)?(?:{KILL}|{WOUND})\s+(?:and|while)\s+$",
    re.IGNORECASE,
)
# "three US troops among five wounded"
AMONG_RE = re.compile(
    rf"(?<![\w-])(?P<us>{NUM})\s+(?:U\.?S\.?|American)\s+(?:\w+\s+)?{PEOPLE}\s+(?:were\s+)?among\s+"
    rf"(?:the\s+)?(?:{QUALIFIER})?(?P<n>\d{{1,4}}|{_WORD_NUM})\s+(?:people\s+|personnel\s+)?"
    rf"(?P<verb>{KILL}|{WOUND})",
    re.IGNORECASE,
)
INCLUDING_US_RE = re.compile(
    rf"\b(?:including|among them|among whom)\s+(?P<n>{NUM})\s+(?:U\.?S\.?|Americans?)\b",
    re.IGNORECASE,
)
# "no Americans were harmed", "two partner fighters hurt, no Americans"
NO_AMERICANS = (
    r"\bno (?:Americans|(?:U\.?S\.?|American) (?:citizens|nationals))\b(?: (?:were|was) (?:\w+ly )?"
    r"(?:hurt|harmed|injured|killed|wounded)(?: or (?:hurt|harmed|injured|killed|wounded))?)?"
)
ZERO_RE = re.compile(
    r"\bno (?:immediate )?(?:reports? of |reported )?(?:(?:(?:U\.?S\.?|American|coalition) )?(?:casualties|injuries|deaths|fatalities|victims)(?: or (?:casualties|injuries|deaths))?|one (?:was|were) (?:hurt|injured|killed|wounded)(?: or (?:hurt|injured|killed|wounded))?|damage or (?:casualties|injuries))"
    r"|\b(?:nobody|no one)(?: else)? (?:(?:at|on|in) the (?:base|embassy|compound|consulate|site|outpost) )?(?:was )?"
    r"(?:hurt|injured|killed|wounded)(?: or (?:hurt|injured|killed|wounded))?"
    r"|\b(?:did not|didn't)[\s,]+(?:[^.;]{0,40}?[\s,])?(?:kill|injure|hurt|wound|harm)\s+(?:anyone|anybody)\b"
    r"|\bwithout (?:causing )?(?:any )?(?:(?:human|material|human or material) )?(?:casualties|injuries|losses|loss of life)"
    r"|\bno (?:human )?(?:losses|loss of life)"
    r"|\b(?:did not|didn't|failed to) (?:cause|result in|inflict) (?:any )?(?:casualties|injur(?:y|ies))"
    r"|\bneither\b.{0,40}\b(?:casualties|injur(?:y|ies))"
    r"|\bcaused no (?:casualties|injur(?:y|ies))"
    r"|\bno (?:one|personnel|troops|service members|people) (?:was |were )?(?:hurt|injured|killed|harmed)(?: or (?:hurt|injured|killed|wounded))?"
    r"|\bcasualty[- ]free\b"
    r"|\b(?:hurt|injured|wounded|harmed)\s+(?:nobody|no one)\b|\b(?:nobody|no one)\s+died\b"
    r"|\bnone (?:of them )?(?:was|were) (?:hurt|injured|wounded|harmed)\b"
    r"|\bnone of (?:the |those |these )?(?:attacks|strikes|them|which) (?:caused|resulted in|produced) (?:any )?(?:casualties|injuries)"
    r"|\bno (?:U\.?S\.?|American|coalition) (?:or (?:Iraqi|coalition) )?(?:personnel|troops|forces|casualties|service members|injuries)"
    rf"|{NO_AMERICANS}",
    re.IGNORECASE,
)
# "Two of them were Americans", "none of the wounded was a US citizen": the US share of the
# figure the text gave last; "he was not an American" of a single casualty.
SHARE_RE = re.compile(
    rf"\b(?P<n>{NUM}|all|none|neither|both)\s+of\s+(?:them|those|these|the\s+(?:\w+\s+)?"
    r"(?:wounded|injured|dead|killed|casualties|victims|(?P<sub>contractors|civilians|workers)|troops|"
    r"personnel))\s+"
    r"(?:(?:was|were|are|is)\s+)?(?:also\s+)?(?:an?\s+)?(?:U\.?S\.?|Americans?)\b",
    re.IGNORECASE,
)
NOT_US_RE = re.compile(
    r"\b(?:not|none of them) (?:of )?(?:an? )?(?:American|U\.?S\.? (?:citizen|national|service member))",
    re.IGNORECASE,
)
US_ZERO_RE = re.compile(
    r"\bno (?:(?:immediate )?reports? of )?(?:U\.?S\.?|American) (?:personnel|troops|forces|casualties|service members|injuries)"
    r"|\bno (?:immediate )?(?:injuries|casualties) (?:(?:were|was) (?:reported )?)?(?:among|to|for) (?:our|U\.?S\.?|American|the "
    r"American|US-led) (?:\w+ )?(?:service members|troops|personnel|forces|soldiers)"
    rf"|{NO_AMERICANS}",
    re.IGNORECASE,
)


def find_us_share(clause: str) -> tuple[int | None, bool, str | None, bool] | None:
    """Return the US share the clause gives of a figure already stated, or None.

    "two of them were Americans" -> (2, False, None, False); "all of the wounded ..." -> (None,
    False, "wounded", False), the whole figure; "he was not an American" -> (0, True, None,
    False), of one person; "four of the injured contractors are US citizens" -> (4, False,
    "wounded", True): a part of the figure besides any US share already given.
    """
    if " of " not in clause and "not " not in clause:
        return None  # the cheap test first: most clauses give no share
    m = SHARE_RE.search(clause)
    if m:
        word = m.group("n").lower()
        of = re.search(rf"\b(?:{KILL})\b|\b(?P<w>{WOUND})\b", m.group(0), re.IGNORECASE)
        if of is None:
            # "the toll is three dead, two of them are American soldiers, ... and twelve
            # wounded": the figure just before the share
            told = list(
                re.finditer(
                    rf"\b(?:{KILL})\b|\b(?P<w>{WOUND})\b", clause[: m.start()], re.IGNORECASE
                )
            )
            of = told[-1] if told else None
        kind = None if of is None else ("wounded" if of.group("w") else "killed")
        sub = m.group("sub") is not None
        if word in ("none", "neither"):
            return 0, False, kind, False
        if word in ("all", "both"):
            return None, False, kind, False
        n = parse_number(word)
        return (n, False, kind, sub) if n is not None else None
    if NOT_US_RE.search(clause):
        return 0, True, None, False
    return None


def parse_number(word: str) -> int | None:
    """Return the integer a number word or digits stand for ("two" -> 2), or None."""
    word = word.strip().lower()
    if word.isdigit():
        return int(word)
    if word in NUMBER_WORDS:
        return NUMBER_WORDS[word]
    parts = re.split(r"[- ]", word)
    if len(parts) == 2 and parts[1] == "dozen" and parts[0] in NUMBER_WORDS:
        return NUMBER_WORDS[parts[0]] * 12
    if len(parts) == 2 and parts[0] in NUMBER_WORDS and parts[1] in NUMBER_WORDS:
        return NUMBER_WORDS[parts[0]] + NUMBER_WORDS[parts[1]]
    return None


def _bounds(qualifier: str | None, n: int, n2: int | None) -> tuple[int | None, int | None]:
    """Return (min, max) for "more than 15" (16, None), "at least 3" (3, None), "2 to 3" (2, 3)."""
    q = (qualifier or "").lower()
    if n2 is not None:
        return (min(n, n2), max(n, n2))
    if q in ("more than", "over"):
        return (n + 1, None)
    if q in ("at least", "not less than", "no less than", "no fewer than", "not fewer than"):
        return (n, None)
    if q in ("up to", "as many as"):
        return (None, n)
    if q in ("fewer than", "less than"):
        return (None, n - 1)
    return (n, n)


# "Eleven of them struck the base" (of the missiles just told of): at least that many.
OF_THEM_RE = re.compile(
    rf"(?<![\w-])(?:{QUALIFIER})?(?P<n>{NUM})\s+(?:of\s+(?:them|which|whose\s+\w+)\s+|had\s+)"
    r"(?:\w+\s+){0,2}?(?:struck|hit|crashed|landed|fell|slammed|exploded|impacted)\b",
    re.IGNORECASE,
)
# "Eleven of the missiles struck Ain al-Asad": how many hit the site is its count
HIT_AFTER_RE = re.compile(
    r"\s+(?:\w+\s+){0,2}?(?:struck|hit|crashed\s+into|landed\s+(?:on|inside|in)|slammed\s+into)\b",
    re.IGNORECASE,
)


# "The one-way attack drone hit the base": one weapon, told of as the one
THE_ONE_RE = re.compile(
    r"\b[Tt]he\s+(?:(?!attack\b)[\w-]+\s+){0,2}?(?:drone|rocket|missile|UAV)\s+(?:had\s+)?"
    r"(?:hit|struck|slammed|exploded|crashed|landed|smashed|detonated)\b"
    r"|\b[Tt]he\s+(?:[\w-]+\s+)?attack\s+drone\s+(?:had\s+)?(?:hit|struck|slammed|exploded|crashed)\b"
)


# "One-way attack drones (2)", a tracker's cell
PAREN_COUNT_RE = re.compile(
    r"\b(?:rockets|drones|missiles|mortars|UAVs)\s*\((?P<n>\d{1,3})\b(?!\s*(?:km|mm|%))",
    re.IGNORECASE,
)


def find_munitions(clause: str) -> Munitions | None:
    """Return the count of rockets/drones/missiles the clause gives, or None."""
    if "(" in clause and (m := PAREN_COUNT_RE.search(clause)):
        n = int(m.group("n"))
        if n:
            return Munitions(n, n)
    for m in MUNITION_RE.finditer(clause):
        n = parse_number(m.group("n"))
        if n is None or n == 0 or (m.group("n").isdigit() and len(m.group("n")) == 4):
            continue
        n2 = parse_number(m.group("n2")) if m.group("n2") else None
        low, high = _bounds(m.group("q"), n, n2)
        if m.group("of") and n2 is None and high == n:
            if n == 1:
                continue  # "one of the rockets killed ...": one of a salvo, not its size
            if not HIT_AFTER_RE.match(clause, m.end()):
                high = None
        return Munitions(low, high)
    if (" of " in clause or " had " in clause) and (m := OF_THEM_RE.search(clause)):
        n = parse_number(m.group("n"))
        if n and n > 1:
            low, high = _bounds(m.group("q"), n, None)
            # "three of them landed inside": at least that many were fired; "eleven had struck
            # the base": that many
            return Munitions(low, high if " had " in m.group(0) else None)
    if THE_ONE_RE.search(clause):
        return Munitions(1, 1)
    return None


@dataclass(frozen=True)
class CasualtyFigures:
    """Casualties a clause states; None where it says nothing."""

    killed: Casualties | None = None
    wounded: Casualties | None = None


def _at_least(n: int, qualifier: str | None) -> int:
    """Return the lowest count the words allow: "more than 40" -> 41 (as for munitions)."""
    return n + 1 if (qualifier or "").lower() in ("more than", "over") else n


def _count_groups(text: str) -> tuple[int, int | None]:
    """Return (total, us) over the groups listed in ``text`` ("two US troops and one Briton")."""
    total, us = 0, 0
    any_us = False
    groups = foreign = 0
    for group in GROUP_RE.finditer(text):
        n = parse_number(group.group("n"))
        if n is None:
            continue
        n = _at_least(n, group.group("q"))
        total += n
        if US_RE.search(group.group("who")) or US_WORD_RE.fullmatch(group.group("who")):
            us += n
            any_us = True
        elif re.search(r"\bnon-(?:U\.?S\.?|American)", group.group("who"), re.IGNORECASE):
            any_us = True  # "a non-American contractor": the US share is known, and none
        else:
            # "Two women and three children were killed" in a family home: not US personnel
            foreign += int(
                bool(FOREIGN_RE.search(group.group("who")) or LOCALS_RE.search(group.group("who")))
            )
        groups += 1
    if not any_us and groups and foreign == groups:
        return total, 0  # "an Iraqi contractor was injured": every group is named as not US
    return total, (us if any_us else None)


def _aside_us(clause: str, at: int) -> int | None:
    """Return the US share an aside right after a figure gives ("Nine were injured - eight
    contractors and one US service member"), or None."""
    m = re.match(r"\s*(?:[-–—(:]|,\s*including)\s*([^-–—()]{0,120})", clause[at:])
    if not m:
        return None
    total, us = _count_groups(m.group(1))
    return us if total else None


def _kind(verb: str) -> str:
    return "killed" if re.match(KILL, verb, re.IGNORECASE) else "wounded"


CASUALTY_CUE_RE = re.compile(
    r"kill|wound|injur|hurt|dead|died|death|casualt|fatalit|harm|brain|TBI|concussion|loss|victim",
    re.IGNORECASE,
)


def find_casualties(clause: str) -> CasualtyFigures:
    """Return killed and wounded figures stated in the clause (totals and US share)."""
    if not CASUALTY_CUE_RE.search(clause):
        return CasualtyFigures()  # most clauses name no casualty: skip the costly patterns
    figures: dict[str, Casualties] = {}
    spans: list[tuple[int, int]] = []

    def record(
        kind: str, total: int | None, us: int | None, span: tuple[int, int], tail: int | None = None
    ) -> None:
        if any(span[0] < e and s < span[1] for s, e in spans):
            return
        if kind in figures:
            known = figures[kind]
            if known.total and total and us is not None and known.us is not None:
                if {known.us, us} == {0} or (known.us == known.total) == (us == total):
                    return  # not one US and one foreign group: the same people told twice
                # "four US service members were diagnosed with brain injuries and one Iraqi
                # soldier was wounded": the clause's toll is both
                spans.append(span)
                figures[kind] = Casualties(known.total + total, known.us + us)
            return
        spans.append(span)
        # "Five people, including two Americans, were wounded" or "..., including two Americans"
        including = INCLUDING_US_RE.search(clause, span[0], span[1] + 60)
        if including and re.search(
            rf"\b(?:{KILL}|{WOUND})\b", clause[span[1] : including.start()], re.IGNORECASE
        ):
            including = None  # "including" belongs to a later figure
        if including and us is None:
            us = parse_number(including.group("n"))
        share = US_SHARE_RE.match(clause, span[1])
        if share and us is None:
            us = parse_number(share.group("n"))
        if us is None:
            us = _aside_us(clause, span[1])
        if us is None and total == 1 and NOT_US_ASIDE_RE.match(clause, span[1]):
            us = 0  # "killed a contractor working with the coalition - not an American -"
        if VAGUE_TAIL_RE.match(clause, span[1] if tail is None else tail):
            total = None  # "a US service member and several others": the total is not given
        figures[kind] = Casualties(total, us)

    for m in LEFT_WITH_RE.finditer(clause):
        total, us = _count_groups(m.group("list"))
        if total:
            record("wounded", total, us, m.span())
    for m in AMONG_RE.finditer(clause):
        n, us = parse_number(m.group("n")), parse_number(m.group("us"))
        if n and us is not None:
            record(_kind(m.group("verb")), _at_least(n, m.group("q")), us, m.span())
    for m in RISEN_RE.finditer(clause):
        n = parse_number(m.group("n"))
        if n:
            n = _at_least(n, m.group("q"))
            us_said = m.group("us_after") or US_RE.search(clause[: m.start("n")])
            # "the count of service members diagnosed ... rose to 109"
            before = clause[: m.start("n")]
            if us_said or re.search(rf"\b{US_WORD_RE.pattern}\b", before, re.IGNORECASE):
                us: int | None = n
            else:
                us = None
            record(_kind(m.group("verb")), n, us, (m.start("n"), m.end("n")))
    for m in NUMBER_AT_RE.finditer(clause):
        n = parse_number(m.group("n"))
        if n:
            record(_kind(m.group("verb")), _at_least(n, m.group("q")), None, m.span())
    for m in AMONG_WHO_RE.finditer(clause):
        n = parse_number(m.group("n"))
        if n:
            n = _at_least(n, m.group("q"))
            who = m.group("who")
            us = n if US_RE.search(who) or US_WORD_RE.search(who) else None
            record(_kind(m.group("verb")), n, us, m.span())
    if "of the group" in clause and PARTNER_RE.search(clause):
        for m in PARTNER_OWN_RE.finditer(clause):
            n = parse_number(m.group("n"))
            if n:
                record(_kind(m.group("verb")), n, 0, m.span())
    for m in VAGUE_AMONG_RE.finditer(clause):
        us = parse_number(m.group("n"))
        if us:
            record(_kind(m.group("verb")), None, us, m.span())
    for m in AFTER_VERB_RE.finditer(clause):
        total, us = _count_groups(m.group("list"))
        if total:
            record(_kind(m.group("verb")), total, us, m.span())
    for m in BEFORE_VERB_RE.finditer(clause):
        verb = m.group("verb")
        if verb.lower() in ("suffered", "sustained", "treated", "evaluated", "diagnosed"):
            if not m.group("verb2"):
                continue
            verb = m.group("verb2")
        total, us = _count_groups(m.group("list"))
        if total:
            record(_kind(verb), total, us, m.span(), tail=m.end("list"))
    for m in AFTER_BARE_RE.finditer(clause):
        n = parse_number(m.group("n"))
        if n and m.group("n").lower() not in ("a", "an"):
            record(_kind(m.group("verb")), _at_least(n, m.group("q")), None, m.span())
    for m in SINGLE_RE.finditer(clause):
        if not re.search(r"s$", m.group("who")) or re.search(r"(?:ss|us)$", m.group("who")):
            rel = m.group("rel") or ""
            us = 1 if US_RE.search(m.group("who")) or US_RE.search(rel) else None
            if NOT_US_RE.search(rel):
                us = 0
            record(_kind(m.group("verb")), 1, us, m.span())
    for m in NAMED_RE.finditer(clause):
        if re.search(PEOPLE + r"|\b(?:American|U\.?S\.?)\b", m.group("who"), re.IGNORECASE):
            us = 1 if US_RE.search(m.group("who")) else None
            record(_kind(m.group("verb")), 1, us, m.span())
    for m in DIED_RE.finditer(clause):
        if not GROUP_RE.search(m.group("mid")):
            us = 1 if US_RE.search(m.group("who")) else None
            record("killed", 1, us, m.span())
    for m in BARE_COUNT_RE.finditer(clause):
        n = parse_number(m.group("n"))
        if n and not (m.group("n").isdigit() and len(m.group("n")) == 4):
            # "Three American service members were killed and 25 were injured": the same people
            us = n if PRIOR_US_RE.search(clause, 0, m.start()) else None
            record(_kind(m.group("verb")), _at_least(n, m.group("q")), us, m.span())

    if ZERO_RE.search(clause):
        # "no injuries among our service members" is the US share only, unless the clause
        # also says no one at all was hurt.
        rest = US_ZERO_RE.sub(" ", clause)
        us_only = rest != clause and not ZERO_RE.search(rest)
        zero = Casualties(None, 0) if us_only else Casualties(0, 0)
        said = " ".join(m.group(0) for m in ZERO_RE.finditer(clause))
        # "no one was killed" says nothing of the wounded; "no injuries" means no one was hurt.
        only_deaths = re.search(KILL, said, re.IGNORECASE) and not re.search(
            rf"{WOUND}|harm", said, re.IGNORECASE
        )
        for kind in ("killed",) if only_deaths else ("killed", "wounded"):
            known = figures.get(kind)
            if known is None:
                figures[kind] = zero
            elif us_only and known.us is None:
                # "two partner fighters hurt, no Americans": the figure's US share is none
                figures[kind] = Casualties(known.total, 0)
    return CasualtyFigures(figures.get("killed"), figures.get("wounded"))
