"""The digest's chart: attacks per week over the last 12 weeks, by type, as a PNG.

matplotlib is imported only when a chart is drawn (Agg backend, no display), so commands that
send no HTML mail stay fast.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date, timedelta

from extract.merge import Incident
from extract.model import ATTACK_TYPES

__all__ = ["WeeklyCounts", "render_chart", "weekly_counts"]

WEEKS = 12
# One colour per attack type, readable on white and for common colour blindness (Okabe-Ito).
COLOURS = {
    "rocket": "#D55E00", "mortar": "#E69F00", "drone": "#0072B2",
    "ballistic_missile": "#CC79A7", "cruise_missile": "#882255", "ied": "#009E73",
    "small_arms": "#56B4E9", "mixed": "#999933", "unknown": "#999999",
}  # fmt: skip


@dataclass(frozen=True)
class WeeklyCounts:
    """Attacks per week (weeks start on Monday), oldest week first, per attack type."""

    weeks: tuple[date, ...]
    by_type: dict[str, tuple[int, ...]]

    @property
    def total(self) -> int:
        """Return the number of attacks counted."""
        return sum(sum(counts) for counts in self.by_type.values())


def weekly_counts(incidents: list[Incident], end: date, weeks: int = WEEKS) -> WeeklyCounts:
    """Return attacks per week by type for the ``weeks`` weeks ending with end's week."""
    last_monday = end - timedelta(days=end.weekday())
    starts = tuple(last_monday - timedelta(weeks=n) for n in range(weeks - 1, -1, -1))
    counts = {t: [0] * weeks for t in ATTACK_TYPES}
    for incident in incidents:
        if not incident.newsworthy:
            continue
        summary = incident.summary
        day = summary.date_start
        if day < starts[0] or day > end:
            continue
        index = (day - starts[0]).days // 7
        counts[summary.attack_type][index] += 1
    return WeeklyCounts(starts, {t: tuple(c) for t, c in counts.items() if any(c)})


def render_chart(counts: WeeklyCounts) -> bytes:
    """Return a stacked bar chart of the counts as PNG bytes (600x220 px at 2x for sharpness)."""
    import logging

    # A fresh install builds matplotlib's font cache once and says so at WARNING: not news.
    logging.getLogger("matplotlib").setLevel(logging.ERROR)
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    from matplotlib.ticker import MaxNLocator

    from reports.render import TYPE_LABELS

    figure, axes = plt.subplots(figsize=(6.0, 2.2), dpi=200)
    try:
        positions = list(range(len(counts.weeks)))
        bottom = [0] * len(counts.weeks)
        for attack_type, values in counts.by_type.items():
            axes.bar(
                positions,
                values,
                bottom=bottom,
                color=COLOURS.get(attack_type, "#999999"),
                label=TYPE_LABELS.get(attack_type, attack_type).replace(" attack", ""),
                width=0.75,
            )
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        axes.set_xticks(positions, [w.strftime("%-d %b") for w in counts.weeks], fontsize=7)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.tick_params(axis="y", labelsize=7)
        axes.set_title("Attacks per week, last 12 weeks", fontsize=9, loc="left")
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.legend(fontsize=7, frameon=False, loc="upper left", ncols=3)
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)
