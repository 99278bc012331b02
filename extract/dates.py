"""Resolve date expressions in a sentence against the article's publication datetime."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

__all__ = ["SAME_DAY_RE", "DateSpan", "find_date", "local_date"]

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    name: index
    for index, name in enumerate(
        ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    )
}
NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}

_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>(?:19|20)\d\d)"

# Order matters: the first pattern that matches in a sentence wins, most specific first.
FULL_DATE_RES = (
    re.compile(rf"\b{_MONTH}\s+{_DAY},?\s+{_YEAR}\b", re.IGNORECASE),
    re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}\b", re.IGNORECASE),
)
MONTH_DAY_RE = re.compile(
    rf"\b{_MONTH}\s+{_DAY}\b(?!\s*(?:,\s*)?(?:19|20)\d\d)(?![:.]\d)(?!\s*(?:percent|%|km|mile))",
    re.IGNORECASE,
)
DAY_MONTH_RE = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MONTH}\b(?!,?\s+(?:19|20)\d\d)", re.IGNORECASE)
MONTH_YEAR_RE = re.compile(rf"\b{_MONTH},?\s+(?:of\s+)?{_YEAR}\b", re.IGNORECASE)
MONTH_ONLY_RE = re.compile(
    rf"\b(?P<lead>in|last|since|during|early|late|mid-|earlier in|later in|this past)\s+{_MONTH}\b"
    r"(?!\s*[0-3]?\d\b)",
    re.IGNORECASE,
)
RELATIVE_MONTH_RE = re.compile(r"\b(?P<which>last|this|earlier this)\s+month\b", re.IGNORECASE)
WEEK_RE = re.compile(r"\b(?P<which>earlier this|this|last|past)\s+week\b", re.IGNORECASE)
# "over the weekend": the latest Saturday and Sunday up to publication.
WEEKEND_RE = re.compile(
    r"\b(?:over|at|during|on)\s+the\s+weekend\b|\b(?:this|last)\s+weekend\b"
    # "a weekend rocket attack", "the weekend's strike"
    r"|\b(?:a|the)\s+weekend(?:['’]s\b|(?=\s+(?:[\w-]+\s+){0,2}?(?:attacks?|strikes?|barrages?|"
    r"salvos?|assaults?)\b))",
    re.IGNORECASE,
)
SINCE_BEGAN_RE = re.compile(
    r"\b(?:since|before|after|until)\s+(?:the\s+)?[^,.;]{0,40}?\b(?:began|started|erupted|broke out|"
    r"took office|came to power)\s+(?:in\s+|on\s+)?$",
    re.IGNORECASE,
)
# "On Christmas Day": a fixed day of the year, in the year that puts it on or before publication.
HOLIDAYS = {"christmas day": (12, 25), "christmas eve": (12, 24), "boxing day": (12, 26),
            "new year's day": (1, 1), "new year's eve": (12, 31)}  # fmt: skip
HOLIDAY_RE = re.compile(
    r"\b(?P<h>Christmas (?:Day|Eve)|Boxing Day|New Year['’]s (?:Day|Eve))(?!,?\s+(?:19|20)\d\d)",
    re.IGNORECASE,
)
YEAR_SO_FAR_RE = re.compile(r"\bearlier this year\b", re.IGNORECASE)
WEEKDAY_RE = re.compile(
    r"\b(?P<weekday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b", re.IGNORECASE
)
# DOMAIN.md: "last night" / "overnight" is the evening before publication.
LAST_NIGHT_RE = re.compile(
    r"\b(?:last night|overnight(?!\s+(?:on\s+)?(?:from\s+)?(?:monday|tuesday|wednesday|thursday|"
    r"friday|saturday|sunday))|late last night|yesterday evening)\b",
    re.IGNORECASE,
)
YESTERDAY_RE = re.compile(r"\byesterday\b", re.IGNORECASE)
TODAY_RE = re.compile(
    r"\b(?:today|(?:shortly |just )?after midnight|this morning|this afternoon|this evening|earlier today|tonight)\b",
    re.IGNORECASE,
)
# A capitalised word right before a capitalised "Today" makes it a name ("Iraq Today").
OUTLET_BEFORE_RE = re.compile(r"\b(?-i:[A-Z])[\w-]*\s+$")
# Every date pattern below holds one of these words (or a digit).
DATE_HINT_RE = re.compile(
    r"\d|day|night|week|month|year|ago|earlier|later|after|before|morning|evening|tonight|"
    r"midnight|christmas|new year|boxing|" + "|".join(sorted(MONTHS, key=len, reverse=True)),
    re.IGNORECASE,
)
# "at about 7:20 p.m.", "just before 11 a.m.": a time of day, the only date some leads give.
CLOCK_RE = re.compile(
    r"\b(?:at|before|after|around|about|shortly before|just before|shortly after|just after)\s+"
    r"(?:about\s+|around\s+|approximately\s+)?(?P<h>1[0-2]|0?[1-9])(?::(?P<m>[0-5]\d))?\s*"
    r"(?P<ap>a\.?m\.?|p\.?m\.?)(?!\w)",
    re.IGNORECASE,
)
# A wire dateline: place in capitals, optional country, date, optional outlet, then a dash.
DATELINE_RE = re.compile(
    r"^[A-Z][A-Z ./'-]+(?:,\s+[A-Z][\w .'-]*?)?,\s+[^-–—()]{3,20}?\s*(?:\([^)]*\))?\s*[-–—]\s"
)
# "the same day", "that night": the date the text spoke of last (resolved by the caller).
SAME_DAY_RE = re.compile(
    r"\b(?:(?:on |later )?the same (?:day|night|evening|morning)|later that (?:day|night|evening)|"
    r"(?:hours|minutes|moments|a short time|a little|not long|a few (?:minutes|hours)) later|"
    r"shortly afterwards?|soon after(?:wards)?)\b",
    re.IGNORECASE,
)
# "The US military on Wednesday blamed a militia for ...": a date right before the verb of a
# statement dates the statement.
SPEECH_AFTER_RE = re.compile(
    r"\s*,?\s*(?:said|says|announced|blamed|accused|confirmed|denied|condemned|warned|told|"
    r"reported|released|issued|published|disclosed|revealed)\b",
    re.IGNORECASE,
)
SPEECH_DATE_RE = re.compile(
    r"\b(?:said|says|announced|confirmed|stated|added|told (?:\w+ )?(?:reporters|journalists|\w+))"
    r"\s+(?:(?:late|early)\s+)?(?:on\s+)?$",
    re.IGNORECASE,
)
DAYS_AGO_RE = re.compile(
    r"\b(?P<n>\d+|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<unit>days?|weeks?)\s+"
    # "a day after rockets landed" dates the rockets before the attack, not after: only the
    # adverbs count ("two days later", "a day earlier", "a day afterwards").
    r"(?P<dir>ago|earlier|later|afterwards|before|after)\b(?=\s*(?:[,.;]|$))",
    re.IGNORECASE,
)
DISCLOSED_RE = re.compile(
    r"\b(?:disclosed|released|published|updated|made public)(?:\s+by\s+[\w.' -]{1,30}?)?\s+on\s+$",
    re.IGNORECASE,
)
_MONTH_WORD = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
PERIOD_AFTER_RE = re.compile(
    rf"\s*(?:[-–—]|to|until|through)\s*(?:\d{{1,2}}\s+{_MONTH_WORD}|{_MONTH_WORD}\s+\d{{1,2}})"
)
PERIOD_BEFORE_RE = re.compile(
    rf"(?:\d{{1,2}}\s+{_MONTH_WORD}|{_MONTH_WORD}\s+\d{{1,2}})\s*(?:[-–—]|to|until|through)\s*$"
)
# "A year ago today": the same day of the year, that many years before publication.
YEARS_AGO_TODAY_RE = re.compile(
    r"\b(?P<n>a|one|two|three|four|five)\s+years?\s+ago\s+(?:today|this day)\b", re.IGNORECASE
)
# "The attack came two days after rockets hit Erbil": the rockets fell two days before the
# date the text spoke of last.
DAYS_AFTER_RE = re.compile(
    r"\b(?:came|comes|followed|happened|occurred|was)\s+(?:just\s+|only\s+)?"
    r"(?P<n>\d+|a|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<unit>days?|weeks?)\s+"
    r"after\b(?!\s*[,.;])",
    re.IGNORECASE,
)
# "the next day", "the day before": a day counted from the date the text spoke of last.
NEXT_DAY_RE = re.compile(
    r"\b(?:the\s+(?P<next>next|following)\s+(?:day|morning|evening|night)|the\s+(?P<prev>previous|"
    r"preceding)\s+(?:day|evening|night)|the\s+day\s+(?P<dir>before|after)(?!\s+(?:the|a|an|it|its)\b))",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class DateSpan:
    """A resolved date: first and last possible day, precision, and the words it came from."""

    start: date
    end: date
    precision: str
    text: str


def local_date(published: datetime) -> date:
    """Return the publication's calendar date in the article's own timezone."""
    return published.date()


def _month_span(year: int, month: int, text: str) -> DateSpan:
    last = calendar.monthrange(year, month)[1]
    return DateSpan(date(year, month, 1), date(year, month, last), "month", text)


def _day(day: date, text: str) -> DateSpan:
    return DateSpan(day, day, "day", text)


def _year_before(month: int, day: int, today: date) -> date | None:
    """Return month/day in the year that puts it on or before today (None if invalid)."""
    # DOMAIN.md: "on March 11" takes the year that puts it on or before publication.
    for year in (today.year, today.year - 1):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            # 29 February four years back is not "within the year up to publication".
            return candidate if (today - candidate).days < 366 else None
    return None


NAMED_YEAR_RE = re.compile(
    r",?\s+(?:of\s+)?(?P<which>last|this|the previous|the past|the same) year\b", re.IGNORECASE
)


def _named_year(sentence: str, at: int, today: date) -> int | None:
    """Return the year words right after a date name ("in January last year"), or None."""
    m = NAMED_YEAR_RE.match(sentence, at)
    if m is None or m.group("which").lower() == "the same":
        return None
    return today.year - (0 if m.group("which").lower() == "this" else 1)


def _latest_weekday(weekday: int, today: date) -> date:
    # DOMAIN.md: "on Saturday" is the latest Saturday on or before publication.
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def _month_before(month: int, today: date, strictly: bool) -> int:
    """Return the year of the latest given month on or before (or strictly before) today's month."""
    if month < today.month or (month == today.month and not strictly):
        return today.year
    return today.year - 1


# "Two months later, on March 11", "in July that year": a date without a year inside a story
# told about an earlier year takes that year, not the one before publication.
STORY_CUE_RE = re.compile(
    r"\b(?:later|earlier|that year|the same year|the following|afterwards|then|that (?:spring|"
    r"summer|autumn|fall|winter))\b",
    re.IGNORECASE,
)


def _story_year(sentence: str, anchor: DateSpan | None, today: date) -> int | None:
    """Return the year a story told in the past speaks of, when the sentence continues it."""
    if anchor is None or (today - anchor.end).days <= 180:
        return None
    return anchor.start.year if STORY_CUE_RE.search(sentence) else None


def _in_story(
    year: int, month: int, day: int, anchor: DateSpan | None, sentence: str
) -> date | None:
    """Return month/day in the story's year, moved a year on for "later" past the year's end."""
    try:
        candidate = date(year, month, day)
        if (
            anchor is not None
            and candidate < anchor.start
            and re.search(r"\b(?:later|following|afterwards)\b", sentence, re.IGNORECASE)
        ):
            candidate = date(year + 1, month, day)
    except ValueError:
        return None
    return candidate


def _clock_day(sentence: str, published: datetime) -> DateSpan | None:
    """Return the day of an attack a story dates only by the clock ("just before 11 a.m."): the
    publication day if that hour has passed there, else the day before.

    Only for an outlet in the region's time (UTC+2..+4), where the clock and the dateline agree.
    """
    m = CLOCK_RE.search(sentence)
    offset = published.utcoffset()
    if m is None or offset is None or not timedelta(hours=2) <= offset <= timedelta(hours=4):
        return None
    hour = int(m.group("h")) % 12 + (12 if m.group("ap").lower().startswith("p") else 0)
    minute = int(m.group("m") or 0)
    today = local_date(published)
    if (hour, minute) <= (published.hour, published.minute):
        return DateSpan(today, today, "day", m.group(0))
    return DateSpan(today - timedelta(days=1), today - timedelta(days=1), "day", m.group(0))


def find_date(
    sentence: str, published: datetime, anchor: DateSpan | None = None
) -> DateSpan | None:
    """Return the first date expression in the sentence, resolved; None if there is none.

    ``anchor`` is the date the text spoke of last: "two days earlier" and "the next day"
    count from it ("N days ago" counts from publication).
    """
    if not DATE_HINT_RE.search(sentence):
        return None  # the cheap test first: most clauses hold no date words at all
    today = local_date(published)
    candidates: list[tuple[int, DateSpan]] = []
    taken: list[tuple[int, int]] = []

    def add(match: re.Match[str] | None, span: DateSpan | None) -> None:
        # Patterns run most specific first; a later one never reuses words already read.
        if not (match and span):
            return
        if any(match.start() < end and start < match.end() for start, end in taken):
            return
        # A date after publication is no date, but its words are still used up: "in September
        # 2020" read in June 2020 must not fall back to "in September" (2019).
        taken.append((match.start(), match.end()))
        # "66 attacks since Oct. 17" dates a period, not an attack.
        if re.search(
            r"\b(?:since|from|until|till)\s+(?:early\s+|mid-|late\s+)?$",
            sentence[max(0, match.start() - 12) : match.start()],
            re.IGNORECASE,
        ):
            return
        # "(figure disclosed by CENTCOM on 24 Oct)": when a figure was told, not an attack
        if DISCLOSED_RE.search(sentence[max(0, match.start() - 50) : match.start()]):
            return
        # "Attacks, 17 October - 9 November 2023": a period (a tracker's), not an attack's date
        if PERIOD_AFTER_RE.match(sentence, match.end()) or PERIOD_BEFORE_RE.search(
            sentence[max(0, match.start() - 20) : match.start()]
        ):
            return
        # "the first attack since the Gaza war began in October": the date of the war's start
        if SINCE_BEGAN_RE.search(sentence[max(0, match.start() - 60) : match.start()]):
            return
        if span.start <= today:
            candidates.append((match.start(), span))

    for m in (m for regex in FULL_DATE_RES for m in regex.finditer(sentence)):
        month = MONTHS[m.group("month").lower()]
        try:
            add(m, _day(date(int(m.group("year")), month, int(m.group("day"))), m.group(0)))
        except ValueError:
            pass
    story_year = _story_year(sentence, anchor, today)
    for regex in (MONTH_DAY_RE, DAY_MONTH_RE):
        for m in regex.finditer(sentence):
            if m.group("month") == "may":
                continue  # "the drone that hit Tower 22 may have been": the verb
            month, number = MONTHS[m.group("month").lower()], int(m.group("day"))
            day = _year_before(month, number, today)
            if story_year is not None:
                day = _in_story(story_year, month, number, anchor, sentence) or day
            if (named := _named_year(sentence, m.end(), today)) is not None:
                try:
                    day = date(named, month, number)
                except ValueError:
                    day = None
            if day:
                add(m, _day(day, m.group(0)))
    for m in HOLIDAY_RE.finditer(sentence):
        day = _year_before(*HOLIDAYS[m.group("h").lower().replace("’", "'")], today)
        if story_year is not None:
            month, number = HOLIDAYS[m.group("h").lower().replace("’", "'")]
            day = _in_story(story_year, month, number, anchor, sentence) or day
        if day:
            add(m, _day(day, m.group(0)))
    for m in MONTH_YEAR_RE.finditer(sentence):
        add(m, _month_span(int(m.group("year")), MONTHS[m.group("month").lower()], m.group(0)))
    for m in MONTH_ONLY_RE.finditer(sentence):
        month = MONTHS[m.group("month").lower()]
        # "in May" is a month; but "may" is also a verb, so require a capital M.
        if (
            m.group("month").lower() == "may"
            and m.group("lead").lower() in ("in", "since")
            and not m.group("month")[0].isupper()
        ):
            continue
        if m.group("lead").lower() == "since" and not re.match(r",?\s+when\b", sentence[m.end() :]):
            continue  # "operated since October" starts a period; "since December, when" dates
        strictly = m.group("lead").lower() == "last"
        year = _month_before(month, today, strictly)
        if story_year is not None:
            first = _in_story(story_year, month, 1, anchor, sentence)
            year = first.year if first else year
        year = _named_year(sentence, m.end(), today) or year
        add(m, _month_span(year, month, m.group(0)))
    for m in RELATIVE_MONTH_RE.finditer(sentence):
        if m.group("which").lower() == "last":
            first = today.replace(day=1) - timedelta(days=1)
            add(m, _month_span(first.year, first.month, m.group(0)))
        elif m.group("which").lower() == "earlier this" and today.day > 1:
            add(m, DateSpan(today.replace(day=1), today - timedelta(days=1), "range", m.group(0)))
        else:
            add(m, _month_span(today.year, today.month, m.group(0)))
    for m in WEEKEND_RE.finditer(sentence):
        sunday = _latest_weekday(6, today)
        if sunday == today or (today - sunday).days >= 6:
            saturday = _latest_weekday(5, today)
            if saturday == today:
                add(m, _day(today, m.group(0)))  # written on the Saturday itself
                continue
            sunday = saturday + timedelta(days=1)
        add(m, DateSpan(sunday - timedelta(days=1), min(sunday, today), "range", m.group(0)))
    for m in YEAR_SO_FAR_RE.finditer(sentence):
        if today > date(today.year, 1, 1):
            add(m, DateSpan(date(today.year, 1, 1), today - timedelta(days=1), "range", m.group(0)))
    for m in WEEK_RE.finditer(sentence):
        monday = today - timedelta(days=today.weekday())
        if m.group("which").lower() in ("last", "past"):
            if m.group("which").lower() == "past":
                add(m, DateSpan(today - timedelta(days=7), today, "range", m.group(0)))
            else:
                add(
                    m,
                    DateSpan(
                        monday - timedelta(days=7), monday - timedelta(days=1), "range", m.group(0)
                    ),
                )
        else:
            # DOMAIN.md: "earlier this week" is a range of days, not a guess at one.
            end = max(monday, today - timedelta(days=1))
            add(m, DateSpan(monday, end, "range", m.group(0)))
    for m in WEEKDAY_RE.finditer(sentence):
        day = _latest_weekday(WEEKDAYS[m.group("weekday").lower()], today)
        if day == today and re.search(r"\blast\s+$", sentence[: m.start()], re.IGNORECASE):
            day -= timedelta(days=7)  # "last Tuesday" written on a Tuesday is a week ago
        add(m, _day(day, m.group(0)))
    for m in LAST_NIGHT_RE.finditer(sentence):
        add(m, _day(today - timedelta(days=1), m.group(0)))
    for m in YESTERDAY_RE.finditer(sentence):
        add(m, _day(today - timedelta(days=1), m.group(0)))
    for m in YEARS_AGO_TODAY_RE.finditer(sentence):
        raw = m.group("n").lower()
        years = NUMBER_WORDS.get(raw, 1)
        try:
            add(m, _day(today.replace(year=today.year - years), m.group(0)))
        except ValueError:  # 29 February
            add(m, _day(today.replace(year=today.year - years, day=28), m.group(0)))
    for m in TODAY_RE.finditer(sentence):
        if m.group(0)[0].isupper() and OUTLET_BEFORE_RE.search(sentence, 0, m.start()):
            continue  # "told Anbar Today", "USA Today reported": a name, not a date
        if "midnight" in m.group(0).lower() and anchor is not None and anchor.precision == "day":
            # "The barrage early on Sunday ... Shortly after midnight, missiles came down":
            # that night, not the night before publication
            add(m, _day(anchor.start, m.group(0)))
            continue
        add(m, _day(today, m.group(0)))
    relative: list[DateSpan] = []
    for m in DAYS_AGO_RE.finditer(sentence):
        raw = m.group("n").lower()
        n = int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw, 1)
        if m.group("unit").lower().startswith("week"):
            n *= 7  # "a week earlier": the same weekday, seven days before
        way = m.group("dir").lower()
        if way == "ago" or (anchor is None and way == "earlier"):
            add(m, _day(today - timedelta(days=n), m.group(0)))
        elif anchor is not None and anchor.precision == "day":
            sign = -1 if way in ("earlier", "before") else 1
            relative.append(_day(anchor.start + timedelta(days=sign * n), m.group(0)))
            add(m, relative[-1])
    for m in DAYS_AFTER_RE.finditer(sentence):
        if anchor is not None and anchor.precision == "day":
            raw = m.group("n").lower()
            n = int(raw) if raw.isdigit() else NUMBER_WORDS.get(raw, 1)
            n *= 7 if m.group("unit").lower().startswith("week") else 1
            relative.append(_day(anchor.start - timedelta(days=n), m.group(0)))
            add(m, relative[-1])
    for m in NEXT_DAY_RE.finditer(sentence):
        if anchor is not None and anchor.precision == "day":
            sign = 1 if (m.group("next") or (m.group("dir") or "").lower() == "after") else -1
            relative.append(_day(anchor.start + timedelta(days=sign), m.group(0)))
            add(m, relative[-1])

    if not candidates and anchor is None:
        clock = _clock_day(sentence, published)
        if clock is not None:
            return clock
    if not candidates:
        return None
    # "WASHINGTON, Jan. 5 (Wire) - Rockets hit the base on Saturday": the dateline dates the
    # report, not the attack (an attack it alone dates is one of the lead's undated ones).
    dateline = DATELINE_RE.match(sentence)
    if dateline:
        candidates = [c for c in candidates if c[0] >= dateline.end()]
        if not candidates:
            return None
    # "CENTCOM said on Wednesday that rockets hit the embassy in Sunday's attack": the date of a
    # statement dates the report, not the attack, when the sentence gives another date.
    spoken = [
        c
        for c in candidates
        if SPEECH_DATE_RE.search(sentence[max(0, c[0] - 40) : c[0]])
        or SPEECH_AFTER_RE.match(sentence, c[0] + len(c[1].text))
    ]
    if spoken and len(spoken) < len(candidates):
        candidates = [c for c in candidates if c not in spoken]
    # "Two days earlier, on Saturday": a date the sentence names beats one counted from another.
    named = [c for c in candidates if c[1] not in relative and c[1].precision == "day"]
    if named and len(named) < len(candidates):
        candidates = [c for c in candidates if c[1] not in relative]
    # A weekday next to "last night" ("late Tuesday night") is the same day; take the earliest
    # expression in the sentence, preferring a day over a coarser one at the same place.
    candidates.sort(key=lambda item: (item[0], item[1].precision != "day"))
    first = candidates[0][1]
    # "Last month, on 20 November": a finer date inside the first one says which day it was.
    for _, span in candidates[1:]:
        if span.precision == "day" != first.precision and first.start <= span.start <= first.end:
            return span
    return first
