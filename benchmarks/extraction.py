"""Benchmark: event extraction time per article (text in, events out), beside trafilatura.

Prints the median and 90th percentile of extract_events over every corpus article (HTML already
turned into text, so only our rules are timed), the same for trafilatura's extraction of the
corpus HTML pages, and the ratio of the two medians, all measured in this one run.
Run: make bench (or uv run python benchmarks/extraction.py).
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extract.article import extract_page
from extract.events import extract_events
from flows.evaluate import published_datetime

REPEATS = 5


def _best_of(fn, repeats: int = REPEATS) -> float:
    """Return the fastest of several runs, in milliseconds (least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def main() -> None:
    texts, pages = [], []
    for label_path in sorted((ROOT / "tests" / "corpus").glob("*/*.yaml")):
        label = yaml.safe_load(label_path.read_text(encoding="utf-8"))
        published = published_datetime(label["published"])
        html = label_path.with_suffix(".html")
        if html.exists():
            raw = html.read_text(encoding="utf-8")
            pages.append(raw)
            page = extract_page(raw)
            texts.append((page.text if page else "", published))
        else:
            texts.append((label_path.with_suffix(".txt").read_text(encoding="utf-8"), published))
    extract_events(*texts[0])  # warm the caches (gazetteer, vocabulary, regexes)
    ours = [_best_of(lambda t=t, p=p: extract_events(t, p)) for t, p in texts]
    theirs = [_best_of(lambda h=h: extract_page(h)) for h in pages]
    ours_median, theirs_median = statistics.median(ours), statistics.median(theirs)
    print(f"{'measure':<44}{'median ms':>10}{'p90 ms':>10}{'n':>6}")
    print(
        f"{'extract_events per article (text in)':<44}{ours_median:>10.2f}"
        f"{statistics.quantiles(ours, n=10)[-1]:>10.2f}{len(ours):>6}"
    )
    print(
        f"{'trafilatura extraction per HTML page':<44}{theirs_median:>10.2f}"
        f"{statistics.quantiles(theirs, n=10)[-1]:>10.2f}{len(theirs):>6}"
    )
    print(f"ratio extract_events / trafilatura (medians): {ours_median / theirs_median:.2f}")
    print(f"target: median <= 10 ms -> {'met' if ours_median <= 10 else 'NOT met'}")


if __name__ == "__main__":
    main()
