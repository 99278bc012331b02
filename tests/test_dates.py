"""extract.dates.find_date: examples, then properties (Hypothesis) over publication times."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest
from hypothesis import assume, example, given
from hypothesis import strategies as st

from extract.dates import DateSpan, find_date

IRAQ = timezone(timedelta(hours=3))
# Sunday 14 June 2020, noon in Baghdad: the seed article's publication time.
SEED_PUBLISHED = datetime(2020, 6, 14, 12, 0, tzinfo=IRAQ)
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = list(calendar.month_name)[1:]


def day(text: str, published: datetime = SEED_PUBLISHED) -> tuple[date, date, str]:
    span = find_date(text, published)
    assert span is not None, f"no date found in {text!r}"
    return span.start, span.end, span.precision


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A Saturday rocket attack on the base.", date(2020, 6, 13)),
        ("Rockets hit the base on Sunday.", date(2020, 6, 14)),  # publication day itself
        ("Rockets hit the base on Monday.", date(2020, 6, 8)),
        ("Rockets struck the base last night.", date(2020, 6, 13)),
        ("The base came under fire overnight.", date(2020, 6, 13)),
        ("Rockets struck the base yesterday.", date(2020, 6, 13)),
        ("Rockets struck the base today.", date(2020, 6, 14)),
        ("The attack came two days ago.", date(2020, 6, 12)),
        ("The attack came 3 days earlier.", date(2020, 6, 11)),
        ("Rockets hit Camp Taji on March 11.", date(2020, 3, 11)),
        ("Rockets hit Camp Taji on 11 March.", date(2020, 3, 11)),
        ("Rockets hit Camp Taji on March 11th.", date(2020, 3, 11)),
        ("Rockets hit Camp Taji on Mar. 11.", date(2020, 3, 11)),
        ("Rockets hit Camp Taji on March 11, 2020.", date(2020, 3, 11)),
        ("Rockets hit Camp Taji on 11 March 2020.", date(2020, 3, 11)),
        # DOMAIN.md: the year that puts the date on or before publication.
        ("The embassy was attacked on December 31.", date(2019, 12, 31)),
        ("The base was attacked on June 20.", date(2019, 6, 20)),
        # The date of a statement dates the report, not the attack the sentence also dates.
        (
            "CENTCOM said on Saturday that 21 rockets hit the embassy in Tuesday's attack.",
            date(2020, 6, 9),
        ),
        ("Officials told reporters Friday the base was hit on Monday.", date(2020, 6, 8)),
        ("The coalition said on Friday that rockets hit the base.", date(2020, 6, 12)),
    ],
)
def test_find_date_resolves_days(text: str, expected: date) -> None:
    assert day(text) == (expected, expected, "day")


# Anchored phrases count from the date the text spoke of last: Saturday 6 June 2020 here.
ANCHOR = DateSpan(date(2020, 6, 6), date(2020, 6, 6), "day", "Saturday")
# Tuesday 16 June 2020 (a Tuesday), for "last Tuesday".
TUESDAY = datetime(2020, 6, 16, 12, 0, tzinfo=IRAQ)


@pytest.mark.parametrize(
    ("text", "published", "anchor", "expected"),
    [
        ("Two days later, rockets hit the base.", SEED_PUBLISHED, ANCHOR, date(2020, 6, 8)),
        ("Two days earlier, rockets hit the base.", SEED_PUBLISHED, ANCHOR, date(2020, 6, 4)),
        ("The next day, a drone hit the base.", SEED_PUBLISHED, ANCHOR, date(2020, 6, 7)),
        ("A week earlier, a drone hit the base.", SEED_PUBLISHED, ANCHOR, date(2020, 5, 30)),
        ("It came two days after rockets hit Erbil.", SEED_PUBLISHED, ANCHOR, date(2020, 6, 4)),
        # A date the sentence names beats one counted from another.
        ("Two days earlier, on Sunday, a drone hit.", SEED_PUBLISHED, ANCHOR, date(2020, 6, 14)),
        # "N days ago" counts from publication, whatever the story spoke of last.
        ("The attack came two days ago.", SEED_PUBLISHED, ANCHOR, date(2020, 6, 12)),
        ("Rockets hit the base last Tuesday.", TUESDAY, None, date(2020, 6, 9)),
        ("Rockets hit the base on Tuesday.", TUESDAY, None, date(2020, 6, 16)),
        # A story told about an earlier year keeps that year.
        (
            "Two months later, on March 11, rockets hit Taji.",
            datetime(2024, 2, 10, tzinfo=IRAQ),
            DateSpan(date(2020, 1, 1), date(2020, 1, 31), "month", "In January 2020"),
            date(2020, 3, 11),
        ),
        # The dateline dates the report, not the attack.
        (
            "WASHINGTON, June 14 (Wire) - Rockets hit the base on Friday.",
            SEED_PUBLISHED,
            None,
            date(2020, 6, 12),
        ),
    ],
)
def test_find_date_counts_from_the_story(
    text: str, published: datetime, anchor: DateSpan | None, expected: date
) -> None:
    span = find_date(text, published, anchor)
    assert span is not None and (span.start, span.end, span.precision) == (
        expected,
        expected,
        "day",
    )


@pytest.mark.parametrize(
    ("text", "start", "end", "precision"),
    [
        ("A December 2019 attack on the K1 base.", date(2019, 12, 1), date(2019, 12, 31), "month"),
        ("In March 2020, a rocket attack on Taji.", date(2020, 3, 1), date(2020, 3, 31), "month"),
        ("Attacks in February 2020 were rare.", date(2020, 2, 1), date(2020, 2, 29), "month"),
        ("The base was hit last month.", date(2020, 5, 1), date(2020, 5, 31), "month"),
        ("The base was hit in January.", date(2020, 1, 1), date(2020, 1, 31), "month"),
        ("The base was hit earlier this week.", date(2020, 6, 8), date(2020, 6, 13), "range"),
        ("The base was hit last week.", date(2020, 6, 1), date(2020, 6, 7), "range"),
        ("The base was hit earlier this month.", date(2020, 6, 1), date(2020, 6, 13), "range"),
        ("The base was hit over the weekend.", date(2020, 6, 13), date(2020, 6, 14), "range"),
        ("The base was hit earlier this year.", date(2020, 1, 1), date(2020, 6, 13), "range"),
    ],
)
def test_find_date_resolves_months_and_ranges(
    text: str, start: date, end: date, precision: str
) -> None:
    assert day(text) == (start, end, precision)


@pytest.mark.parametrize(
    "text",
    [
        "Iran wants US troops to leave Iraq.",
        "Two Katyusha rockets were fired at Camp Taji in the evening.",
        "The attack may have been a message.",
        "",
    ],
)
def test_find_date_without_a_date_is_none(text: str) -> None:
    assert find_date(text, SEED_PUBLISHED) is None


def test_find_date_keeps_the_evidence_words() -> None:
    span = find_date("Rockets hit Camp Taji on March 11 at night.", SEED_PUBLISHED)
    assert span is not None and span.text == "March 11"


def test_find_date_refuses_a_date_after_publication() -> None:
    assert find_date("Talks are set for July 2020.", SEED_PUBLISHED) is None
    assert find_date("Talks are set for June 20, 2020.", SEED_PUBLISHED) is None


@pytest.mark.parametrize(
    "text",
    [
        "US troops will leave in September 2020.",
        "Rockets hit Taji in March 2021, officials said.",
    ],
)
def test_find_date_does_not_reread_a_future_month_year_as_last_years_month(text: str) -> None:
    # "in September 2020", read on 14 June 2020, is after publication: no date. It must not
    # fall back to the bare month ("in September") and become September 2019.
    assert find_date(text, SEED_PUBLISHED) is None


def test_find_date_uses_the_articles_own_timezone() -> None:
    # 01:30 on Sunday in Baghdad is still Saturday in UTC: "yesterday" is Saturday here.
    published = datetime(2020, 6, 14, 1, 30, tzinfo=IRAQ)
    assert day("Rockets struck the base yesterday.", published)[0] == date(2020, 6, 13)
    assert day("Rockets struck the base yesterday.", published.astimezone(UTC))[0] == date(
        2020, 6, 12
    )


def test_find_date_takes_the_first_expression() -> None:
    text = "On Saturday, rockets hit the base that was also hit in March 2020."
    assert day(text) == (date(2020, 6, 13), date(2020, 6, 13), "day")


# -- properties ---------------------------------------------------------------------------------

offsets = st.integers(min_value=-12 * 60, max_value=14 * 60).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
published_times = st.builds(
    lambda d, t, tz: datetime.combine(d, t, tzinfo=tz),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)),
    st.times(),
    offsets,
)
phrases = st.one_of(
    st.sampled_from(WEEKDAYS).map(lambda w: f"Rockets hit the base on {w}."),
    st.sampled_from(WEEKDAYS).map(lambda w: f"Late {w} night, drones struck the base."),
    st.tuples(st.sampled_from(MONTHS), st.integers(1, 31)).map(
        lambda md: f"The base was attacked on {md[0]} {md[1]}."
    ),
    st.tuples(st.integers(1, 31), st.sampled_from(MONTHS)).map(
        lambda dm: f"The base was attacked on {dm[0]} {dm[1]}."
    ),
    st.tuples(st.sampled_from(MONTHS), st.integers(1995, 2035)).map(
        lambda my: f"The base was attacked in {my[0]} {my[1]}."
    ),
    st.sampled_from(
        [
            "Rockets struck the base last night.",
            "Rockets struck the base overnight.",
            "Rockets struck the base yesterday.",
            "Rockets struck the base today.",
            "Rockets struck the base earlier this week.",
            "Rockets struck the base last week.",
            "Rockets struck the base earlier this month.",
            "Rockets struck the base last month.",
            "Rockets struck the base in the past week.",
            "The attack came four days ago.",
        ]
    ),
)


@given(phrases, published_times)
@example("The base was attacked in June 2020.", datetime(2020, 6, 14, 12, tzinfo=IRAQ))
def test_resolved_date_is_never_after_publication(text: str, published: datetime) -> None:
    span = find_date(text, published)
    if span is None:
        return
    today = published.date()
    assert span.start <= span.end
    assert span.start <= today
    if span.precision != "month":
        # A month-precision date spans its whole month by contract; anything finer ends by then.
        assert span.end <= today


@given(st.sampled_from(WEEKDAYS), published_times)
def test_on_weekday_is_that_weekday_within_the_week_up_to_publication(
    weekday: str, published: datetime
) -> None:
    span = find_date(f"Two rockets hit the base on {weekday}.", published)
    assert span is not None and span.precision == "day" and span.start == span.end
    assert span.start.weekday() == WEEKDAYS.index(weekday)
    assert 0 <= (published.date() - span.start).days < 7


@given(
    st.sampled_from(MONTHS),
    st.integers(1, 31),
    published_times,
    st.sampled_from(["{m} {d}", "{d} {m}", "{m} {d}th"]),
)
def test_month_day_lands_within_the_year_up_to_publication(
    month: str, day_of_month: int, published: datetime, form: str
) -> None:
    number = MONTHS.index(month) + 1
    assume(day_of_month <= calendar.monthrange(2000, number)[1])  # 2000 is a leap year
    text = "Rockets hit the base on " + form.format(m=month, d=day_of_month) + "."
    span = find_date(text, published)
    if span is None:
        # Only 29 February can be missing from the past year.
        assert (number, day_of_month) == (2, 29)
        return
    assert (span.start.month, span.start.day) == (number, day_of_month)
    assert span.precision == "day" and span.start == span.end
    assert 0 <= (published.date() - span.start).days < 366


@given(st.sampled_from(MONTHS), st.integers(1995, 2035), published_times)
@example("September", 2020, SEED_PUBLISHED)
def test_month_year_is_month_precision_spanning_the_month(
    month: str, year: int, published: datetime
) -> None:
    number = MONTHS.index(month) + 1
    span = find_date(f"A rocket attack in {month} {year} killed a contractor.", published)
    if date(year, number, 1) > published.date():
        assert span is None  # not yet happened when the article appeared
        return
    assert span is not None
    assert (span.start, span.end, span.precision) == (
        date(year, number, 1),
        date(year, number, calendar.monthrange(year, number)[1]),
        "month",
    )


@given(published_times)
def test_earlier_this_week_is_a_range_in_the_publication_week(published: datetime) -> None:
    span = find_date("Rockets hit the base earlier this week.", published)
    today = published.date()
    assert span is not None and span.precision == "range"
    assert span.start == today - timedelta(days=today.weekday())  # that week's Monday
    assert span.start <= span.end <= today
    if today.weekday() > 0:
        assert span.end == today - timedelta(days=1)


@given(
    phrases,
    st.dates(min_value=date(2000, 1, 1), max_value=date(2035, 12, 31)),
    st.times(),
    st.times(),
    offsets,
    offsets,
)
def test_resolution_depends_only_on_the_local_publication_date(
    text: str, local_day: date, first: time, second: time, tz1: timezone, tz2: timezone
) -> None:
    a = find_date(text, datetime.combine(local_day, first, tzinfo=tz1))
    b = find_date(text, datetime.combine(local_day, second, tzinfo=tz2))
    assert a == b


def test_a_clock_time_alone_dates_the_attack_by_the_publication_hour() -> None:
    """Not a date expression: a lead with only a time of day and no date the text gave before
    is dated by whether that hour had passed at publication (outlets in the region only)."""
    text = "More than 25 rockets hit the base just before 11 a.m."
    evening = datetime(2020, 6, 14, 18, 0, tzinfo=IRAQ)
    morning = datetime(2020, 6, 14, 9, 0, tzinfo=IRAQ)
    assert day(text, evening) == (date(2020, 6, 14), date(2020, 6, 14), "day")
    assert day(text, morning) == (date(2020, 6, 13), date(2020, 6, 13), "day")
    assert find_date(text, evening.astimezone(UTC)) is None
    assert find_date(text, evening, ANCHOR) is None  # the story's own date rules


def test_the_start_of_a_war_or_term_dates_no_attack() -> None:
    published = datetime(2023, 12, 9, 9, tzinfo=timezone(timedelta(hours=3)))
    assert find_date("the first attack since the Gaza war began in October", published) is None
    assert find_date("the first since President Biden took office in January", published) is None
    assert find_date("rockets hit the base in October", published) is not None


def test_a_month_or_day_then_last_year_is_that_year() -> None:
    published = datetime(2021, 3, 5, 12, tzinfo=IRAQ)
    january = find_date("In January last year, Iran fired missiles at the base.", published)
    assert january is not None and (january.start, january.end) == (
        date(2020, 1, 1),
        date(2020, 1, 31),
    )
    march = find_date("On March 11 last year, rockets hit Camp Taji.", published)
    assert march is not None and march.start == date(2020, 3, 11)
    assert find_date("In December of this year rockets will fall.", published) is None


def test_may_the_verb_after_a_number_is_no_date() -> None:
    published = datetime(2024, 2, 3, 20, tzinfo=IRAQ)
    assert (
        find_date("The drone that hit Tower 22 may have been mistaken for a US one.", published)
        is None
    )
    may = find_date("On 22 May rockets hit the base.", published)
    assert may is not None and may.start == date(2023, 5, 22)


def test_a_year_ago_today() -> None:
    published = datetime(2021, 1, 8, 10, tzinfo=IRAQ)
    span = find_date("A year ago today, Iran's missiles landed on Ain al-Asad.", published)
    assert span is not None and span.start == date(2020, 1, 8) and span.precision == "day"


def test_a_period_and_a_disclosure_date_are_no_attack_dates() -> None:
    published = datetime(2023, 11, 9, 17, tzinfo=IRAQ)
    assert (
        find_date("Attacks on coalition positions, 17 October - 9 November 2023", published) is None
    )
    assert find_date("20 personnel hurt (figure disclosed by CENTCOM on 24 Oct)", published) is None
    assert find_date("On 18 October drones hit the base", published) is not None
