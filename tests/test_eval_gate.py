"""The extraction quality gate: the corpus scores must stay at or above the pinned floors.

Floors live in tests/eval_floors.json, just under the figures reached. Raising them is fine;
lowering one takes `basewatch eval --floors tests/eval_floors.json --write-floors` and a reviewed
diff.
"""

from pathlib import Path

import pytest

from flows.evaluate import SPLITS, check_floors, evaluate_split, load_floors

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
