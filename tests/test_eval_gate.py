"""The extraction quality gate: the corpus scores must stay at or above the pinned floors.

Floors live in tests/eval_floors.json, just under the figures reached. Raising them is fine;
lowering one takes `basewatch eval --floors tests/eval_floors.json --write-floors` and a reviewed
diff.
"""

from pathlib import Path

import pytest

from extract.errors import InputError
from flows.evaluate import (
    SPLITS,
    check_floors,
    check_split,
    evaluate_split,
    floors_from,
    load_floors,
)

ROOT = Path(__file__).parent
FLOORS = load_floors(ROOT / "eval_floors.json")


@pytest.mark.parametrize("split", SPLITS)
def test_extraction_meets_floors(split: str) -> None:
    scores = evaluate_split(ROOT / "corpus" / split)
    assert check_floors(split, scores, FLOORS[split]) == []


def test_floors_cover_every_figure() -> None:
    scores = evaluate_split(ROOT / "corpus" / "dev")
    for split in SPLITS:
        assert set(FLOORS[split]) == set(scores.figures())


def test_corpus_is_large_enough_and_split() -> None:
    labels = {split: sorted((ROOT / "corpus" / split).glob("*.yaml")) for split in SPLITS}
    assert sum(len(v) for v in labels.values()) >= 80
    assert labels["heldout"], "a held-out split is required"


@pytest.mark.parametrize("split", SPLITS)
def test_every_label_follows_the_corpus_rules(split: str) -> None:
    assert check_split(ROOT / "corpus" / split) == []


def test_an_unsound_label_is_named(tmp_path: Path) -> None:
    (tmp_path / "x001.txt").write_text("Rockets hit Ain al-Asad\n\nRockets hit it on Monday.\n")
    (tmp_path / "x001.yaml").write_text(
        "id: x001\npublished: 2021-03-05T08:00:00+03:00\noutlet: O\nstyle: wire_brief\n"
        "title: T\nfacts: [https://example.org/a]\nnegative: false\nevents:\n"
        "  - {incident: asad-2021-03-01, site: ain-al-asad, date_start: 2021-03-01,\n"
        "     date_end: 2021-03-01, date_precision: day, recent: false, attack_type: rocket}\n"
    )
    assert check_split(tmp_path) == [
        "x001: event 1 (asad-2021-03-01): recent should be true for these dates"
    ]
    with pytest.raises(InputError, match="corpus .*: x001: event 1 .*recent should be true"):
        evaluate_split(tmp_path)


def test_pinned_floors_hold_the_figures_they_were_pinned_from() -> None:
    reached = {"dev": {"f1": 0.9716, "split_rate": 1 / 61, "wrong_merges": 2.0}}
    floors = floors_from(reached)["dev"]
    assert floors == {"f1": 0.952, "split_rate": 0.017, "wrong_merges": 2.0}
