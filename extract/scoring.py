"""Score extracted events against labelled ones (pure): detection, fields, merging."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from extract.events import RECENT_DAYS
from extract.gazetteer import Gazetteer
from extract.merge import Incident, Report, SourceRef, match_incident
from extract.model import ATTACK_TYPES, OUTCOMES, PERPETRATOR_STATUSES, PRECISIONS, Event

__all__ = ["Gold", "Labelled", "Scores", "check_label", "score_corpus"]

STYLES = ("wire_brief", "analysis", "local", "official", "html_page")
# "asad-2020-01-08", "tower22-2024-01-28", "besmaya-2020-03": a place, then the attack's date.
INCIDENT_KEY_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*-\d{4}-\d{2}(?:-\d{2})?")


@dataclass(frozen=True)
class Gold:
    """One labelled event."""

    incident: str
    site: str | None
    location_text: str
    date_start: date
    date_end: date
    date_precision: str
    recent: bool
    attack_type: str
    munitions: tuple[int | None, int | None]
    killed: tuple[int | None, int | None]
    wounded: tuple[int | None, int | None]
    perpetrator_status: str


@dataclass(frozen=True)
class Labelled:
    """A corpus article with its labels and what the extractor found in it."""

    id: str
    published: datetime
    url: str
    negative: bool
    gold: tuple[Gold, ...]
    predicted: tuple[Event, ...]


@dataclass
class Scores:
    """Every figure `basewatch eval` prints for one split."""

    articles: int = 0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    recent_tp: int = 0
    recent_fp: int = 0
    recent_fn: int = 0
    day_events: int = 0
    exact_dates: int = 0
    matched: int = 0
    recent_flags: int = 0
    types: int = 0
    munitions: int = 0
    casualties: int = 0
    negatives: int = 0
    clean_negatives: int = 0
    gold_incidents: int = 0
    wrong_merges: int = 0
    split_incidents: int = 0
    failures: list[str] = field(default_factory=list)

    @staticmethod
    def _ratio(a: int, b: int) -> float:
        return a / b if b else 1.0

    def figures(self) -> dict[str, float]:
        """Return the named figures (ratios in 0..1) that floors are checked against."""
        p = self._ratio(self.tp, self.tp + self.fp)
        r = self._ratio(self.tp, self.tp + self.fn)
        rp = self._ratio(self.recent_tp, self.recent_tp + self.recent_fp)
        rr = self._ratio(self.recent_tp, self.recent_tp + self.recent_fn)
        return {
            "event_precision": p,
            "event_recall": r,
            "event_f1": 2 * p * r / (p + r) if p + r else 0.0,
            "recent_precision": rp,
            "recent_recall": rr,
            "recent_f1": 2 * rp * rr / (rp + rr) if rp + rr else 0.0,
            "exact_date": self._ratio(self.exact_dates, self.day_events),
            "recent_flag": self._ratio(self.recent_flags, self.matched),
            "attack_type": self._ratio(self.types, self.matched),
            "munitions": self._ratio(self.munitions, self.matched),
            "casualties": self._ratio(self.casualties, self.matched),
            "clean_negatives": self._ratio(self.clean_negatives, self.negatives),
            "wrong_merges": float(self.wrong_merges),
            "split_rate": self._ratio(self.split_incidents, self.gold_incidents)
            if self.gold_incidents
            else 0.0,
        }


def _meets(event: Event, gold: Gold) -> bool:
    one_day = timedelta(days=1)
    dates = (
        event.date_start - one_day <= gold.date_end and gold.date_start - one_day <= event.date_end
    )
    if gold.site is not None:
        return dates and event.site is not None and event.site.id == gold.site
    return dates and event.site is None


def _pair(predicted: tuple[Event, ...], gold: tuple[Gold, ...]) -> list[tuple[Event, Gold]]:
    """Return one-to-one pairs of predicted and gold events (same site, dates within a day)."""
    pairs: list[tuple[Event, Gold]] = []
    free = list(predicted)
    for g in gold:
        candidates = [e for e in free if _meets(e, g)]
        if not candidates:
            continue
        best = min(candidates, key=lambda e: abs((e.date_start - g.date_start).days))
        free.remove(best)
        pairs.append((best, g))
    return pairs


def _describe(event: Event | Gold) -> str:
    site = event.site if isinstance(event, Gold) else (event.site.id if event.site else None)
    return f"{site or event.location_text!r} {event.date_start}..{event.date_end}"


def score_corpus(items: list[Labelled]) -> Scores:
    """Return the scores of one split."""
    scores = Scores(articles=len(items))
    merge_pairs: list[tuple[Event, Gold, Labelled]] = []
    for item in items:
        if item.negative:
            scores.negatives += 1
            scores.clean_negatives += int(not item.predicted)
        pairs = _pair(item.predicted, item.gold)
        paired_pred = [e for e, _ in pairs]
        paired_gold = [g for _, g in pairs]
        scores.tp += len(pairs)
        scores.fp += len(item.predicted) - len(pairs)
        scores.fn += len(item.gold) - len(pairs)
        for event in item.predicted:
            if event not in paired_pred:
                scores.failures.append(
                    f"{item.id}: false event {_describe(event)} <- {event.evidence[0][:160]!r}"
                )
        for g in item.gold:
            if g not in paired_gold:
                scores.failures.append(f"{item.id}: missed {_describe(g)} ({g.incident})")
        scores.recent_fp += sum(
            1 for e in item.predicted if e.recent and not any(e is p and g.recent for p, g in pairs)
        )
        scores.recent_fn += sum(
            1 for g in item.gold if g.recent and not any(g is gg and p.recent for p, gg in pairs)
        )
        for event, g in pairs:
            merge_pairs.append((event, g, item))
            scores.matched += 1
            scores.recent_tp += int(event.recent and g.recent)
            wrong: list[str] = []
            if g.date_precision == "day":
                scores.day_events += 1
                exact = event.date_precision == "day" and event.date_start == g.date_start
                scores.exact_dates += int(exact)
                if not exact:
                    wrong.append(
                        f"date {event.date_start}/{event.date_precision} != {g.date_start}/day"
                    )
            if event.recent == g.recent:
                scores.recent_flags += 1
            else:
                wrong.append(f"recent {event.recent} != {g.recent}")
            if event.attack_type == g.attack_type:
                scores.types += 1
            else:
                wrong.append(f"type {event.attack_type} != {g.attack_type}")
            if (event.munitions.min, event.munitions.max) == g.munitions:
                scores.munitions += 1
            else:
                wrong.append(
                    f"munitions {event.munitions.min}..{event.munitions.max} != "
                    f"{g.munitions[0]}..{g.munitions[1]}"
                )
            got = ((event.killed.total, event.killed.us), (event.wounded.total, event.wounded.us))
            if got == (g.killed, g.wounded):
                scores.casualties += 1
            else:
                wrong.append(f"killed/wounded {got} != {(g.killed, g.wounded)}")
            if wrong:
                scores.failures.append(
                    f"{item.id}: {_describe(g)}: "
                    + "; ".join(wrong)
                    + f" <- {event.evidence[0][:160]!r}"
                )
    _score_merges(merge_pairs, scores)
    return scores


def _score_merges(pairs: list[tuple[Event, Gold, Labelled]], scores: Scores) -> None:
    """Merge the matched events in publication order; count wrong merges and split incidents."""
    incidents: list[Incident] = []
    keys: dict[int, set[str]] = {}
    for event, gold, item in sorted(pairs, key=lambda p: p[2].published):
        source = SourceRef(item.url, item.id, item.published)
        found = match_incident(event, incidents, source.url)
        if found is None:
            new = Incident(len(incidents) + 1, (Report(event, source),))
            incidents.append(new)
            keys[new.id] = {gold.incident}
        else:
            index = incidents.index(found)
            incidents[index] = Incident(found.id, found.reports + (Report(event, source),))
            keys[found.id].add(gold.incident)
    scores.wrong_merges = sum(1 for k in keys.values() if len(k) > 1)
    for incident_id, k in keys.items():
        if len(k) > 1:
            scores.failures.append(f"wrong merge: incident {incident_id} holds {sorted(k)}")
    spread: dict[str, int] = {}
    for k in keys.values():
        for key in k:
            spread[key] = spread.get(key, 0) + 1
    scores.gold_incidents = len(spread)
    scores.split_incidents = sum(1 for n in spread.values() if n > 1)
    for key, n in sorted(spread.items()):
        if n > 1:
            scores.failures.append(f"split: {key} is spread over {n} incidents")


def gold_from_label(data: dict[str, Any]) -> Gold:
    """Return a Gold event from one label mapping (see tests/corpus/README.md)."""

    def pair(value: dict[str, Any] | None, a: str, b: str) -> tuple[int | None, int | None]:
        value = value or {}
        return value.get(a), value.get(b)

    perpetrator = data.get("perpetrator") or {}
    return Gold(
        incident=str(data["incident"]),
        site=data.get("site"),
        location_text=str(data.get("location_text") or ""),
        date_start=_to_date(data["date_start"]),
        date_end=_to_date(data["date_end"]),
        date_precision=data["date_precision"],
        recent=bool(data["recent"]),
        attack_type=data["attack_type"],
        munitions=pair(data.get("munitions"), "min", "max"),
        killed=pair(data.get("killed"), "total", "us"),
        wounded=pair(data.get("wounded"), "total", "us"),
        perpetrator_status=perpetrator.get("status", "unknown"),
    )


def _to_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def check_label(label: dict[str, Any], stem: str, gazetteer: Gazetteer) -> list[str]:
    """Return one line per way the label breaks tests/corpus/README.md (empty when sound)."""
    problems: list[str] = []

    def say(text: str) -> None:
        problems.append(f"{stem}: {text}")

    if label.get("id") != stem:
        say(f"id {label.get('id')!r} is not the file name")
    try:
        published = label["published"]
        published = (
            published if isinstance(published, datetime) else datetime.fromisoformat(published)
        )
    except (KeyError, TypeError, ValueError):
        say("published is missing or not an ISO 8601 datetime")
        return problems
    if published.tzinfo is None:
        say("published has no UTC offset")
    for key in ("outlet", "title"):
        if not str(label.get(key) or "").strip():
            say(f"{key} is missing")
    if label.get("style") not in STYLES:
        say(f"style {label.get('style')!r} is not one of {', '.join(STYLES)}")
    facts = label.get("facts") or []
    if not facts or not all(str(url).startswith(("http://", "https://")) for url in facts):
        say("facts must list the public URL(s) the facts come from")
    events = label.get("events") or []
    if bool(label.get("negative")) == bool(events):
        say("a negative article has no events; any other has at least one")
    for number, event in enumerate(events, 1):
        problems += [
            f"{stem}: event {number} ({event.get('incident')}): {text}"
            for text in _check_event(event, published.date(), gazetteer)
        ]
    return problems


def _check_event(event: dict[str, Any], today: date, gazetteer: Gazetteer) -> list[str]:
    """Return what is wrong with one labelled event."""
    problems: list[str] = []
    if not INCIDENT_KEY_RE.fullmatch(str(event.get("incident") or "")):
        problems.append("incident key is not <place>-<YYYY-MM-DD>")
    try:
        first, last = _to_date(event["date_start"]), _to_date(event["date_end"])
    except (KeyError, TypeError, ValueError):
        return [*problems, "date_start / date_end missing or not dates"]
    precision = event.get("date_precision")
    if precision not in PRECISIONS:
        problems.append(f"date_precision {precision!r} is not one of {', '.join(PRECISIONS)}")
    if first > last:
        problems.append("date_start is after date_end")
    if first > today:
        problems.append("the attack is dated after publication")
    if precision == "day" and first != last:
        problems.append("a day-precision event starts and ends on one day")
    if precision == "month" and (
        first.day != 1
        or (first.year, first.month) != (last.year, last.month)
        or last.day != calendar.monthrange(last.year, last.month)[1]
    ):
        problems.append("a month-precision event spans its whole month")
    recent = (
        precision != "month"
        and 0 <= (today - last).days <= RECENT_DAYS
        and (last - first).days <= RECENT_DAYS
    )
    if bool(event.get("recent")) != recent:
        problems.append(f"recent should be {str(recent).lower()} for these dates")
    site_id = event.get("site")
    if site_id is not None:
        site = gazetteer.get(site_id)
        if site is None:
            problems.append(f"site {site_id!r} is not in the gazetteer")
        elif not site.hosted_us(first, last):
            problems.append(f"site {site_id!r} hosted no US personnel on those dates")
    if event.get("attack_type") not in ATTACK_TYPES:
        problems.append(f"attack_type {event.get('attack_type')!r} is unknown")
    if event.get("outcome", "unknown") not in OUTCOMES:
        problems.append(f"outcome {event.get('outcome')!r} is unknown")
    perpetrator = event.get("perpetrator") or {}
    if perpetrator.get("status", "unknown") not in PERPETRATOR_STATUSES:
        problems.append(f"perpetrator status {perpetrator.get('status')!r} is unknown")
    low, high = (event.get("munitions") or {}).get("min"), (event.get("munitions") or {}).get("max")
    if low is not None and high is not None and low > high:
        problems.append("munitions min is above max")
    for kind in ("killed", "wounded"):
        figure = event.get(kind) or {}
        total, us = figure.get("total"), figure.get("us")
        if total is not None and us is not None and us > total:
            problems.append(f"{kind}: the US share is above the total")
    return problems
