"""Render the sample digest email in docs/email/ from the bundled seed articles.

The digest is the one a subscriber with default preferences would get on 5 Feb 2024 if they
had been told of everything up to the end of 2023 and of Tower 22's first-day figures: the
al-Omar drone attack is new, Tower 22 is an update (its toll was revised). Writes
sample-digest.eml (the full message, chart included), sample-digest.html (the HTML part, with
the chart as sample-chart.png beside it) and, when Chromium is installed, screenshots of the
HTML at phone and desktop widths.
Run: uv run python docs/email/make_sample.py
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from extract.digest import select_digest, snapshot
from extract.events import extract_events
from extract.merge import Incident, Report, SourceRef, match_incident
from flows.feeds import read_seed_dir
from flows.tokens import sign_token
from reports.chart import render_chart, weekly_counts
from reports.deliver import build_message
from reports.render import CHART_CID, render_digest

NOW = datetime(2024, 2, 5, 7, 0, tzinfo=UTC)
BASE = "http://127.0.0.1:8080"


def merge(entries: list) -> list[Incident]:
    incidents: list[Incident] = []
    for entry in entries:
        source = SourceRef(entry.link, entry.title, entry.published)
        for event in extract_events(entry.content, entry.published, entry.link):
            report = Report(event, source)
            found = match_incident(event, incidents, entry.link)
            if found is None:
                incidents.append(Incident(len(incidents) + 1, (report,)))
            else:
                incidents[incidents.index(found)] = Incident(found.id, (*found.reports, report))
    return incidents


def main() -> None:
    entries = sorted(read_seed_dir(ROOT / "seeds"), key=lambda e: e.published)
    revision = [e for e in entries if "tower22_revised" in e.guid or "revised" in e.link]
    before = merge([e for e in entries if e not in revision])
    after = merge(entries)
    # Told already: everything before 2024, and Tower 22 as first reported.
    seen = {
        i.id: snapshot(i)
        for i in before
        if i.summary.date_start < date(2024, 1, 1) or i.summary.site.id == "tower-22"
    }
    digest = select_digest(after, seen, NOW)
    links = {
        purpose: f"{BASE}/{purpose}?token={sign_token('ana@example.org', purpose, 'sample')}"
        for purpose in ("unsubscribe", "preferences")
    }
    chart = render_chart(weekly_counts(after, NOW.date()))
    rendered = render_digest(digest, 42, links=links, chart=True)
    message = build_message(
        rendered,
        sender="basewatch <basewatch@example.org>",
        to="ana@example.org",
        msg_id="<digest-42-sample@basewatch>",
        date=NOW,
        unsubscribe=links["unsubscribe"],
        images={CHART_CID: chart},
    )
    (HERE / "sample-digest.eml").write_bytes(message.as_bytes())
    (HERE / "sample-chart.png").write_bytes(chart)
    html = rendered.html.replace(f"cid:{CHART_CID}", "sample-chart.png")
    (HERE / "sample-digest.html").write_text(html, encoding="utf-8")
    print(f"subject: {rendered.subject}")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return
    with tempfile.TemporaryDirectory() as profile:
        for name, width, height in (("phone", 390, 1800), ("desktop", 900, 1500)):
            subprocess.run(
                [
                    browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                    f"--user-data-dir={profile}", f"--window-size={width},{height}",
                    f"--screenshot={HERE / f'sample-digest-{name}.png'}",
                    (HERE / "sample-digest.html").as_uri(),
                ],
                check=True,
                capture_output=True,
                timeout=120,
            )  # fmt: skip


if __name__ == "__main__":
    main()
