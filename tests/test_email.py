"""The digest email: golden files for the rendered text and HTML, headers, parts, the chart.

Golden files live in tests/golden/. A missing file fails; to rewrite them after a deliberate
change, run ``BASEWATCH_UPDATE_GOLDEN=1 uv run pytest tests/test_email.py`` and review the diff
in the commit. Message-ID, Date and MIME boundaries are normalised in the .eml file.
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import struct
from datetime import UTC, date, datetime

import pytest
import yaml
from conftest import SITE, TESTS

from extract.article import extract_page
from extract.digest import Digest, select_digest, snapshot
from extract.events import extract_events
from extract.gazetteer import default_gazetteer
from extract.merge import Incident, Report, SourceRef, match_incident
from reports.chart import render_chart, weekly_counts
from reports.deliver import build_message
from reports.render import CHART_CID, alert_subject, digest_subject, render_digest

GOLDEN = TESTS / "golden"
# Read at import: the autouse _isolated fixture hides BASEWATCH_* variables from the tests.
UPDATE = os.environ.get("BASEWATCH_UPDATE_GOLDEN", "") not in ("", "0")
ARTICLES = yaml.safe_load((SITE / "articles.yaml").read_text(encoding="utf-8"))
CREATED = datetime(2021, 3, 5, 7, 0, tzinfo=UTC)
LINKS = {
    "unsubscribe": "https://watch.example/unsubscribe?token=UNSUBSCRIBE-TOKEN",
    "preferences": "https://watch.example/preferences?token=PREFERENCES-TOKEN",
}


def reports_of(name: str) -> list[Report]:
    page = extract_page((SITE / "articles" / f"{name}.html").read_text(encoding="utf-8"))
    published = datetime.fromisoformat(str(ARTICLES[name]["published"]))
    url = f"https://testwire.example/{name}"
    source = SourceRef(url, ARTICLES[name]["title"], published)
    events = extract_events(page.text, published, url, default_gazetteer())
    return [Report(event, source) for event in events]


def merge(names: list[str]) -> list[Incident]:
    """Merge the articles' events into incidents, as the store does (ids from 1)."""
    incidents: list[Incident] = []
    for name in names:
        for report in reports_of(name):
            found = match_incident(report.event, incidents, report.source.url)
            if found is None:
                incidents.append(Incident(len(incidents) + 1, (report,)))
            else:
                incidents[incidents.index(found)] = Incident(found.id, (*found.reports, report))
    return incidents


@pytest.fixture(scope="module")
def digest() -> Digest:
    """Two attacks, then a revision: Erbil is new, Ain al-Asad an update (killed 0 -> 1)."""
    before = merge(["asad-rockets-2021-03-03"])
    after = merge(["asad-rockets-2021-03-03", "erbil-rockets-2021-02-16",
                   "asad-contractor-died-2021-03-04"])  # fmt: skip
    seen = {before[0].id: snapshot(before[0])}
    chosen = select_digest(after, seen, CREATED)
    assert [i.kind for i in chosen.items] == ["new", "updated"]
    return chosen


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing: run with BASEWATCH_UPDATE_GOLDEN=1 to write it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden file"


def normalise_eml(raw: bytes) -> str:
    text = raw.decode("utf-8").replace("\r\n", "\n")
    boundaries = sorted(set(re.findall(r'boundary="([^"]+)"', text)))
    for number, boundary in enumerate(boundaries, 1):
        text = text.replace(boundary, f"BOUNDARY-{number}")
    text = re.sub(r"^Message-ID: .*$", "Message-ID: <MESSAGE-ID>", text, flags=re.MULTILINE)
    return re.sub(r"^Date: .*$", "Date: DATE", text, flags=re.MULTILINE)


def test_digest_text_matches_golden(digest: Digest) -> None:
    check_golden("digest.txt", render_digest(digest, 7, links=LINKS).text)


def test_digest_html_matches_golden(digest: Digest) -> None:
    check_golden("digest.html", render_digest(digest, 7, links=LINKS, chart=True).html)


def test_alert_text_matches_golden(digest: Digest) -> None:
    alert = Digest(CREATED, digest.new, ())
    check_golden("alert.txt", render_digest(alert, kind="alert", links=LINKS).text)


def test_text_only_eml_matches_golden(digest: Digest) -> None:
    rendered = render_digest(digest, 7, links=LINKS, html=False)
    message = build_message(
        rendered,
        sender="basewatch <basewatch@example.org>",
        to="ana@example.com",
        unsubscribe=LINKS["unsubscribe"],
    )
    check_golden("digest-text.eml", normalise_eml(message.as_bytes()))


def test_subject_says_what_is_inside(digest: Digest) -> None:
    assert digest_subject(digest) == "basewatch: 1 new attack, 1 updated — 5 Mar 2021"
    assert digest_subject(Digest(CREATED, digest.new * 3, digest.updated)) == (
        "basewatch: 3 new attacks, 1 updated — 5 Mar 2021"
    )
    assert digest_subject(Digest(CREATED, (), digest.updated)) == (
        "basewatch: 1 updated — 5 Mar 2021"
    )
    alert = Digest(CREATED, digest.new, ())
    assert alert_subject(alert) == (
        "basewatch alert: Rocket attack on Erbil Air Base, Iraq — 15 Feb 2021"
    )


def test_html_mail_has_text_html_and_the_chart_inline(digest: Digest) -> None:
    counts = weekly_counts([i.incident for i in digest.items], CREATED.date())
    png = render_chart(counts)
    rendered = render_digest(digest, 7, links=LINKS, chart=True)
    message = build_message(
        rendered,
        sender="basewatch <basewatch@example.org>",
        to="ana@example.com",
        msg_id="<m@basewatch>",
        unsubscribe=LINKS["unsubscribe"],
        images={CHART_CID: png},
    )
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert [p.get_content_type() for p in parsed.walk()] == [
        "multipart/alternative",
        "text/plain",
        "multipart/related",
        "text/html",
        "image/png",
    ]
    image = next(p for p in parsed.walk() if p.get_content_type() == "image/png")
    assert image["Content-ID"] == f"<{CHART_CID}>"
    assert image.get_content() == png
    assert parsed["List-Unsubscribe"] == (
        "<https://watch.example/unsubscribe?token=UNSUBSCRIBE-TOKEN>, "
        "<mailto:basewatch@example.org?subject=unsubscribe>"
    )
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed["List-Id"] == "basewatch digest <digest.basewatch>"
    assert parsed["Message-ID"] == "<m@basewatch>" and parsed["Date"]
    html = parsed.get_body(preferencelist=("html",)).get_content()
    # CSS is inlined for clients that drop <style>; the block stays for the media query.
    assert '<td class="masthead" style="background: #1d2330;' in html
    assert "@media only screen and (max-width: 620px)" in html
    # New attacks first, then updates with what changed.
    assert html.index("New attacks (1)") < html.index("Updated (1)")
    assert "killed: 0 → 1" in html


def test_chart_counts_attacks_per_week_by_type() -> None:
    incidents = merge(["asad-rockets-2021-03-03", "erbil-rockets-2021-02-16"])
    counts = weekly_counts(incidents, date(2021, 3, 5))
    assert len(counts.weeks) == 12 and counts.weeks[-1] == date(2021, 3, 1)  # a Monday
    assert counts.weeks[0] == date(2020, 12, 14)
    assert counts.by_type == {"rocket": (0,) * 9 + (1, 0, 1)}
    assert counts.total == 2
    assert weekly_counts(incidents, date(2022, 1, 1)).total == 0  # both older than 12 weeks
    png = render_chart(counts)
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1200, 440)


def test_golden_files_are_not_left_stale() -> None:
    names = {p.name for p in GOLDEN.iterdir()}
    assert names == {"digest.txt", "digest.html", "alert.txt", "digest-text.eml"}
