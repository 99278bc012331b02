"""`basewatch eval`: run the extractor over the labelled corpus and print its scores."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from extract.article import extract_page
from extract.errors import InputError
from extract.events import extract_events
from extract.gazetteer import default_gazetteer
from extract.scoring import Labelled, Scores, check_label, gold_from_label, score_corpus

__all__ = [
    "SPLITS",
    "check_floors",
    "check_split",
    "evaluate_split",
    "format_scores",
    "load_floors",
]

SPLITS = ("dev", "heldout")
# Lower is better for these; every other figure is a ratio where higher is better.
CEILINGS = frozenset({"wrong_merges", "split_rate"})


def published_datetime(value: Any) -> datetime:
    """Return a label's publication datetime, aware (UTC when the label gives no offset)."""
    when = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def check_split(folder: Path) -> list[str]:
    """Return one line per unsound label or missing article in a corpus folder."""
    if not folder.is_dir():
        raise InputError(f"corpus folder {str(folder)!r} does not exist")
    gazetteer = default_gazetteer()
    problems = []
    for label_path in sorted(folder.glob("*.yaml")):
        try:
            label = yaml.safe_load(label_path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            problems.append(f"{label_path.stem}: not valid YAML ({str(exc).splitlines()[0]})")
            continue
        if not isinstance(label, dict):
            problems.append(f"{label_path.stem}: not a label mapping")
            continue
        problems += check_label(label, label_path.stem, gazetteer)
        if not any(label_path.with_suffix(ext).exists() for ext in (".txt", ".html")):
            problems.append(f"{label_path.stem}: no .txt or .html article beside the label")
    return problems


def load_split(folder: Path) -> list[tuple[dict[str, Any], str]]:
    """Return (label, article text) for every labelled article in a corpus folder."""
    problems = check_split(folder)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"corpus {folder.name}: {problems[0]}{more}")
    items = []
    for label_path in sorted(folder.glob("*.yaml")):
        label = yaml.safe_load(label_path.read_text(encoding="utf-8"))
        html = label_path.with_suffix(".html")
        if html.exists():
            page = extract_page(html.read_text(encoding="utf-8"))
            text = page.text if page else ""
        else:
            text = label_path.with_suffix(".txt").read_text(encoding="utf-8")
        items.append((label, text))
    return items


def evaluate_split(folder: Path) -> Scores:
    """Return the extractor's scores on one corpus folder."""
    labelled = []
    for label, text in load_split(folder):
        published = published_datetime(label["published"])
        predicted = extract_events(text, published)
        labelled.append(
            Labelled(
                id=str(label["id"]),
                published=published,
                # the article's own address: cluster articles share their facts' URLs
                url=f"corpus:{label['id']}",
                negative=bool(label.get("negative")),
                gold=tuple(gold_from_label(e) for e in label.get("events") or []),
                predicted=tuple(predicted),
            )
        )
    return score_corpus(labelled)


def format_scores(name: str, scores: Scores, failures: int = 20) -> str:
    """Return the printed report of one split."""
    f = scores.figures()
    lines = [
        (
            f"== {name}: {scores.articles} articles, {scores.tp + scores.fn} labelled events, "
            f"{scores.tp + scores.fp} extracted"
        ),
        (
            f"events         precision {f['event_precision']:.3f}  recall {f['event_recall']:.3f}  "
            f"F1 {f['event_f1']:.3f}"
        ),
        (
            f"recent events  precision {f['recent_precision']:.3f}  recall {f['recent_recall']:.3f}  "
            f"F1 {f['recent_f1']:.3f}"
        ),
        (
            f"exact date     {f['exact_date']:.3f}  ({scores.exact_dates}/{scores.day_events} "
            "day-precision events)"
        ),
        (
            f"recent flag    {f['recent_flag']:.3f}   attack type {f['attack_type']:.3f}   "
            f"munitions {f['munitions']:.3f}   killed/wounded {f['casualties']:.3f}  "
            f"(of {scores.matched} matched)"
        ),
        (
            f"negatives      {f['clean_negatives']:.3f} with zero events "
            f"({scores.clean_negatives}/{scores.negatives})"
        ),
        (
            f"merging        {scores.wrong_merges} wrong merges, {scores.split_incidents} of "
            f"{scores.gold_incidents} incidents split ({f['split_rate']:.3f})"
        ),
    ]
    if failures and scores.failures:
        lines.append(
            f"failures ({len(scores.failures)}, first {min(failures, len(scores.failures))}):"
        )
        lines += [f"  {line}" for line in scores.failures[:failures]]
    return "\n".join(lines)


def load_floors(path: Path) -> dict[str, dict[str, float]]:
    """Return the pinned floors per split (see tests/eval_floors.json)."""
    return json.loads(path.read_text(encoding="utf-8"))


def check_floors(name: str, scores: Scores, floors: dict[str, float]) -> list[str]:
    """Return one line per figure below its floor (or above its ceiling)."""
    figures = scores.figures()
    problems = []
    for key, floor in floors.items():
        value = figures[key]
        if key in CEILINGS:
            if value > floor + 1e-9:
                problems.append(f"{name} {key} {value:.3f} is above its ceiling {floor:.3f}")
        elif value < floor - 1e-9:
            problems.append(f"{name} {key} {value:.3f} is below its floor {floor:.3f}")
    return problems


def floors_from(reached: dict[str, dict[str, float]], margin: float = 0.02) -> dict[str, Any]:
    """Return floors just under the figures reached (ceilings for merge errors: as reached)."""
    floors: dict[str, Any] = {}
    for split, figures in reached.items():
        floors[split] = {
            # a ceiling rounds up (1/61 = 0.0164 -> 0.017), so the figure reached is under it
            key: (
                math.ceil(round(value * 1000, 6)) / 1000
                if key in CEILINGS
                else max(0.0, round(value - margin, 3))
            )
            for key, value in figures.items()
        }
    return floors
