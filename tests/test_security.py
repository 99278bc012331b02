"""Hostile feed and sidecar values: no script or javascript: link in the HTML, no header injection."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import yaml
from conftest import DATA, Site

from extract.gazetteer import default_gazetteer
from flows.digest import DigestReport, digest
from flows.ingest import IngestReport, ingest
from flows.settings import Settings
from flows.store import open_store

SCRIPT_TITLE = "<script>alert(1)</script> Rockets hit Ain al-Asad"
ATTRIBUTE_TITLE = '"><img src=x onerror=alert(1)> Rockets near Erbil'
CRLF_TITLE = "Evil\r\nBcc: victim@example.com"
JS_LINK = "javascript:alert(1)"
JS_SIDECAR_URL = "JavaScript:alert(document.cookie)"
SUBSCRIBER = "reader@example.com"
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
    open_store(settings.resolved_database_url, default_gazetteer()).add_subscriber(SUBSCRIBER)
    ingested = ingest(settings)
    digested = digest(settings)
    assert digested.path is not None
    outbox = sorted(settings.outbox_dir.glob("*.eml"))
    assert len(outbox) == 1
    return Hostile(
        ingested,
        digested,
        digested.path.read_text(encoding="utf-8"),
        digested.path.with_suffix(".eml").read_bytes(),
        outbox[0].read_bytes(),
    )


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


def test_digest_html_has_no_script_element(hostile: Hostile) -> None:
    assert "<script" not in hostile.html.lower()
    assert "<img" not in hostile.html.lower()


def test_digest_html_links_only_to_http(hostile: Hostile) -> None:
    assert 'href="javascript:' not in hostile.html.lower()
    hrefs = re.findall(r"""href\s*=\s*["']?([^"'\s>]*)""", hostile.html, re.IGNORECASE)
    assert hrefs, "the digest links its sources"
    assert all(h.startswith(("http://", "https://")) for h in hrefs), hrefs


@pytest.mark.parametrize("which", ["archive_eml", "outbox_eml"])
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
    assert subject.startswith("basewatch: 3 new attacks")
    if which == "outbox_eml":
        assert message["To"] == SUBSCRIBER


def test_eml_text_keeps_the_title_on_one_line(hostile: Hostile) -> None:
    message = email.message_from_bytes(hostile.outbox_eml, policy=email.policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    lines = text.splitlines()
    assert any("Evil Bcc: victim@example.com" in line for line in lines)
    assert not any(line.lstrip().lower().startswith("bcc:") for line in lines)


def test_hostile_url_is_stored_but_never_fetched(hostile: Hostile, site: Site) -> None:
    assert not [r for r in site.requests if "javascript" in r.path.lower()]
