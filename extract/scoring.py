"""Score extracted events against labelled ones (pure): detection, fields, merging."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from extract.merge import Incident, Report, SourceRef, match_incident
from extract.model import Event

__all__ = ["Gold", "Labelled", "Scores", "score_corpus"]


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
