"""Hostile feed and sidecar values: no script or javascript: link in the HTML, no header injection."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
import yaml
from conftest import DATA, Site

from extract.digest import Digest, DigestItem
from extract.gazetteer import default_gazetteer
from extract.merge import Incident, Report, SourceRef
from extract.model import Event
from extract.preferences import Preferences
from flows.digest import DigestReport, digest
from flows.ingest import IngestReport, ingest
from flows.settings import Settings
from flows.store import open_store
from reports.deliver import build_message
from reports.render import render_digest

SCRIPT_TITLE = "<script>alert(1)</script> Rockets hit Ain al-Asad"
ATTRIBUTE_TITLE = '"><img src=x onerror=alert(1)> Rockets near Erbil'
CRLF_TITLE = "Evil\r\nBcc: victim@example.com"
JS_LINK = "javascript:alert(1)"
JS_SIDECAR_URL = "JavaScript:alert(document.cookie)"
SUBSCRIBER = "reader@example.com"
ALERTED = "watcher@example.com"  # an immediate subscriber: alerted after the ingest
METADATA_LINK = "http://169.254.169.254/latest/meta-data/"
# Carried whole by the feed (>= 600 characters), so the javascript: link is never fetched.
ERBIL_FULL_TEXT = (
    "<p>Several rockets struck Erbil International Airport, where troops of the US-led "
    "coalition are based, on Monday night, killing a civilian contractor who was not a US "
    "citizen.</p><p>The coalition said on Tuesday that nine other people were wounded, one of "
    "them an American service member, and that most of the rockets fell inside the airport "
    "grounds.</p><p>A group calling itself Saraya Awliya al-Dam claimed responsibility in an "
    "online statement. Kurdish security officials said the rockets were launched from a truck "
    "parked south of the city.</p><p>The attack was the first on the airport in months.</p>"
)


@dataclass
class Hostile:
    ingested: IngestReport
    digested: DigestReport
    html: str
    archive_eml: bytes
    outbox_eml: bytes
    alert_eml: bytes


@pytest.fixture(scope="module")
def hostile(
    site: Site, settings_builder: Callable[..., Settings], tmp_path_factory: pytest.TempPathFactory
) -> Hostile:
    folder = tmp_path_factory.mktemp("hostile")
    feed = site.add_feed(
        [
            site.article_item("asad-rockets-2021-03-03", title=SCRIPT_TITLE),
            site.article_item("erbil-rockets-2021-02-16", title=CRLF_TITLE),
            {
                "title": ATTRIBUTE_TITLE,
                "link": JS_LINK,
                "guid": "hostile-js",
                "published": "2021-02-16T12:00:00+03:00",
                "content": ERBIL_FULL_TEXT,
            },
            # A link to the cloud metadata address: refused, so the article is skipped.
            {
                "title": "Metadata",
                "link": METADATA_LINK,
                "guid": "hostile-metadata",
                "published": "2021-02-16T12:00:00+03:00",
            },
        ]
    )
    # A local seed folder whose sidecar carries a script title and a javascript: URL.
    seed = folder / "seed"
    seed.mkdir()
    shutil.copy(DATA / "taji-2020-03" / "camp_taji_rockets_2020_03_12.txt", seed / "taji.txt")
    (seed / "taji.yaml").write_text(
        yaml.safe_dump(
            {
                "url": JS_SIDECAR_URL,
                "title": "<script>alert('seed')</script> Camp Taji",
                "published": "2020-03-12T10:00:00+03:00",
            }
        ),
        encoding="utf-8",
    )
    settings = settings_builder(
        folder, [{"name": "hostile-feed", "url": feed}, {"name": "hostile-seed", "path": "seed"}]
    )
    store = open_store(settings.resolved_database_url, default_gazetteer())
    store.add_subscriber(SUBSCRIBER)
    store.add_subscriber(ALERTED, Preferences(cadence="immediate"))
    ingested = ingest(settings)
    digested = digest(settings)
    assert digested.path is not None
    [digest_eml] = settings.outbox_dir.glob(f"digest-*-{SUBSCRIBER}.eml")
    [alert_eml] = settings.outbox_dir.glob(f"alert-*-{ALERTED}.eml")
    assert len(list(settings.outbox_dir.glob("*.eml"))) == 2  # the alert told ALERTED all
    return Hostile(
        ingested,
        digested,
        digested.path.read_text(encoding="utf-8"),
        digested.path.with_suffix(".eml").read_bytes(),
        digest_eml.read_bytes(),
        alert_eml.read_bytes(),
    )


def html_of(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return message.get_body(preferencelist=("html",)).get_content()


def test_hostile_items_reached_the_digest(hostile: Hostile) -> None:
    # Otherwise the checks below would prove nothing.
    assert hostile.ingested.articles_new == 4 and not hostile.ingested.sources_failed
    assert hostile.ingested.articles_failed == 1  # the metadata link
    assert hostile.digested.new == 3
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Rockets hit Ain al-Asad" in hostile.html
    assert "Evil Bcc: victim@example.com" in hostile.html
    assert "onerror=alert(1)" in hostile.html
    assert JS_LINK in hostile.html
    assert JS_SIDECAR_URL.lower() in hostile.html  # the sidecar's URL, shown as text only


@pytest.mark.parametrize("which", ["archive", "outbox_eml", "alert_eml"])
def test_digest_html_has_no_script_element(hostile: Hostile, which: str) -> None:
    html = hostile.html if which == "archive" else html_of(getattr(hostile, which))
    assert "&lt;script&gt;" in html  # the hostile title is there, as text
    assert "<script" not in html.lower()
    # The only image is the chart, by Content-ID; no <img> comes from a title.
    assert re.findall(r"<img\b[^>]*>", html, re.IGNORECASE) == [
        tag for tag in re.findall(r"<img\b[^>]*>", html, re.IGNORECASE) if 'src="cid:' in tag
    ]


@pytest.mark.parametrize("which", ["archive", "outbox_eml", "alert_eml"])
def test_digest_html_links_only_to_http(hostile: Hostile, which: str) -> None:
    html = hostile.html if which == "archive" else html_of(getattr(hostile, which))
    assert 'href="javascript:' not in html.lower()
    hrefs = re.findall(r"""href\s*=\s*["']?([^"'\s>]*)""", html, re.IGNORECASE)
    assert hrefs, "the digest links its sources"
    assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs


@pytest.mark.parametrize("which", ["archive_eml", "outbox_eml", "alert_eml"])
def test_eml_headers_are_not_injected(hostile: Hostile, which: str) -> None:
    raw: bytes = getattr(hostile, which)
    head = re.split(rb"\r?\n\r?\n", raw, maxsplit=1)[0]
    names = [
        line.split(b":", 1)[0].lower()
        for line in head.splitlines()
        if line and not line[:1].isspace()
    ]
    assert b"bcc" not in names
    assert len(names) == len(set(names)), names  # no header given twice
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message.get_all("Bcc") is None
    subject = str(message["Subject"])
    assert "\r" not in subject and "\n" not in subject
    expected = "basewatch alert: 3 new attacks" if which == "alert_eml" else "basewatch: 3 new"
    assert subject.startswith(expected)
    if which != "archive_eml":
        assert message["To"] == (ALERTED if which == "alert_eml" else SUBSCRIBER)
        [link, mailbox] = str(message["List-Unsubscribe"]).split(", ")
        assert re.fullmatch(r"<http://127\.0\.0\.1:8080/unsubscribe\?token=[\w.-]+>", link)
        assert mailbox == "<mailto:basewatch@localhost?subject=unsubscribe>"


def test_eml_text_keeps_the_title_on_one_line(hostile: Hostile) -> None:
    message = email.message_from_bytes(hostile.outbox_eml, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    lines = text.splitlines()
    assert any("Evil Bcc: victim@example.com" in line for line in lines)
    assert not any(line.lstrip().lower().startswith("bcc:") for line in lines)


def test_hostile_url_is_stored_but_never_fetched(hostile: Hostile, site: Site) -> None:
    assert not [r for r in site.requests if "javascript" in r.path.lower()]


def test_hostile_place_name_stays_one_line_in_an_alert_subject() -> None:
    # An attack on a place not in the gazetteer is named by the article's own words.
    event = Event(
        date_start=date(2021, 3, 3),
        date_end=date(2021, 3, 3),
        date_precision="day",
        recent=True,
        site=None,
        location_text="<script>x</script>\r\nBcc: victim@example.com",
        attack_type="drone",
    )
    source = SourceRef(JS_LINK, SCRIPT_TITLE, datetime(2021, 3, 3, tzinfo=UTC))
    incident = Incident(1, (Report(event, source),))
    alert = Digest(datetime(2021, 3, 3, tzinfo=UTC), (DigestItem(incident, "new"),), ())
    links = {"unsubscribe": JS_LINK, "preferences": "https://ok.example/p?token=t"}
    rendered = render_digest(alert, kind="alert", links=links)
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
    assert "<script" not in rendered.html.lower()
    assert 'href="javascript:' not in rendered.html.lower()  # an unsafe link is left out
    message = build_message(
        rendered, sender="basewatch <b@example.org>", to="a@example.org", unsubscribe=JS_LINK
    )
    assert message["List-Unsubscribe"] is None  # never a javascript: URL in a header
    head = re.split(rb"\r?\n\r?\n", message.as_bytes(), maxsplit=1)[0]
    assert not [line for line in head.splitlines() if line.lower().startswith(b"bcc")]
