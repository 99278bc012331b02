"""Browser tests: Debian's headless Chromium, driven by Playwright, against the web app on a
real server on 127.0.0.1 over a store filled by the real ingest (conftest.web_server).

Chromium is /usr/bin/chromium (.ci/run installs Debian's package if it is missing). Without it
these tests are skipped locally and fail under CI=true. Playwright never downloads a browser.
Each run saves screenshots in its tmp folder; BASEWATCH_UPDATE_SCREENSHOTS=1 also writes them
to docs/screenshots/ (shown in the README).
"""

from __future__ import annotations

import email
import email.policy
import os
import re
import shutil
import struct
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import REPO, WebServer

from extract.gazetteer import default_gazetteer
from extract.preferences import Preferences
from flows.store import Store, open_store
from flows.tokens import sign_token

CHROMIUM = Path("/usr/bin/chromium")
# As root in a container, with no GPU and a closed network: no sandbox, no background traffic.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1100, "height": 900}
SCREENSHOTS = REPO / "docs" / "screenshots"
# Read at import: the autouse _isolated fixture hides every BASEWATCH_* variable from the tests.
UPDATE_SCREENSHOTS = os.environ.get("BASEWATCH_UPDATE_SCREENSHOTS") == "1"


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Chromium under Playwright; skipped without /usr/bin/chromium, failed without it in CI."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} not found (apt-get install chromium; .ci/run installs it)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{message}; CI must run the browser tests")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: object, web_server: WebServer) -> Iterator[object]:
    """A new browser context (own cookies) on the app; fails the test on any console error
    (a stylesheet or form blocked by the Content-Security-Policy shows up there)."""
    context = browser.new_context(base_url=web_server.url, viewport=PHONE)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    yield tab
    context.close()
    assert errors == []


@pytest.fixture(scope="module")
def store(web_server: WebServer) -> Iterator[Store]:
    store = open_store(web_server.data.settings.resolved_database_url, default_gazetteer())
    yield store
    store.engine.dispose()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def screenshot(tab: object, shots: Path, name: str) -> Path:
    """Save a full-page PNG in the run's folder (and docs/screenshots when asked); return it."""
    path = shots / f"{name}.png"
    tab.screenshot(path=str(path), full_page=True)
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 390 and height >= 400, (name, width, height)
    if UPDATE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)
    return path


def fits_the_screen(tab: object) -> bool:
    """Return True if the page needs no sideways scrolling (nothing wider than the viewport)."""
    return tab.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def link(web_server: WebServer, email: str, purpose: str) -> str:
    token = sign_token(email, purpose, web_server.data.settings.resolved_secret_key)
    return f"/{purpose}?token={token}"


def test_open_an_incident(page: object, shots: Path) -> None:
    page.goto("/incidents")
    assert fits_the_screen(page)  # the filters and the list on a phone
    page.set_viewport_size(DESKTOP)
    # The stylesheet loaded under the CSP (its header rule is a 3px red border).
    border = page.eval_on_selector("header.top", "e => getComputedStyle(e).borderBottomWidth")
    assert border == "3px"
    screenshot(page, shots, "incidents")
    page.select_option("select[name=country]", "JO")
    page.click("button:has-text('Filter')")
    assert page.url.endswith("/incidents?country=JO&site=&type=&since=&until=&scope=")
    assert page.locator("ol.incidents > li").count() == 1
    page.set_viewport_size(PHONE)
    page.click("a.headline:has-text('Tower 22')")
    assert page.locator("h1").inner_text() == "Drone attack on Tower 22, Jordan"
    assert page.locator("ol.reports > li").count() == 3
    assert page.locator("blockquote.evidence").first.is_visible()
    assert "Wounded" in page.locator("table.spread").inner_text()
    assert fits_the_screen(page)
    screenshot(page, shots, "incident")


def test_subscribe(page: object, store: Store, web_server: WebServer, shots: Path) -> None:
    page.goto("/incidents")
    page.click("nav >> text=Subscribe")
    page.fill("input[name=email]", "browser.reader@example.org")
    page.check("input[name=countries][value=IQ]")
    page.check("input[name=attack_types][value=drone]")
    page.select_option("select[name=cadence]", "weekly")
    page.select_option("select[name=timezone]", "Asia/Baghdad")
    assert fits_the_screen(page)
    screenshot(page, shots, "subscribe")
    page.click("button:has-text('Subscribe')")
    assert page.locator("h1").inner_text() == "Check your inbox"
    assert store.subscriber_preferences("browser.reader@example.org") is None  # not yet
    # Follow the link in the mail the app wrote to the outbox (it points at
    # BASEWATCH_BASE_URL; the test server listens elsewhere, so keep its path and query).
    outbox = web_server.data.settings.outbox_dir
    [eml] = outbox.glob("confirm-*-browser.reader@example.org.eml")
    mail = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert mail["Subject"] == "Confirm your basewatch subscription"
    text = mail.get_body(("plain",)).get_content()
    [url] = re.findall(r"http://\S+/confirm\?token=\S+", text)
    parts = urlsplit(url)
    page.goto(f"{parts.path}?{parts.query}")
    assert page.locator("strong.email").inner_text() == "browser.reader@example.org"
    assert store.subscriber_preferences("browser.reader@example.org") is None  # GET asks only
    assert fits_the_screen(page)
    page.click("button:has-text('Confirm subscription')")
    assert "is subscribed" in page.locator("p.ok").inner_text()
    assert store.subscriber_preferences("browser.reader@example.org") == Preferences(
        countries=("IQ",), attack_types=("drone",), cadence="weekly", timezone="Asia/Baghdad"
    )
    page.click("main a:has-text('Your preferences')")
    assert page.is_checked("input[name=countries][value=IQ]")


def test_change_preferences(page: object, store: Store, web_server: WebServer, shots: Path) -> None:
    store.add_subscriber("browser.prefs@example.org", Preferences(countries=("IQ",)))
    page.goto(link(web_server, "browser.prefs@example.org", "preferences"))
    assert page.locator("strong.email").inner_text() == "browser.prefs@example.org"
    assert page.is_checked("input[name=countries][value=IQ]")
    page.uncheck("input[name=countries][value=IQ]")
    page.check("input[name=countries][value=SY]")
    page.select_option("select[name=min_severity]", "us_casualties")
    page.select_option("select[name=format]", "text")
    page.click("button:has-text('Save preferences')")
    assert page.locator("p.ok").inner_text() == "Preferences saved."
    assert page.is_checked("input[name=countries][value=SY]")
    screenshot(page, shots, "preferences")
    assert store.subscriber_preferences("browser.prefs@example.org") == Preferences(
        countries=("SY",), min_severity="us_casualties", format="text"
    )


def test_unsubscribe(page: object, store: Store, web_server: WebServer) -> None:
    store.add_subscriber("browser.leaving@example.org")
    page.goto(link(web_server, "browser.leaving@example.org", "unsubscribe"))
    assert store.subscriber_preferences("browser.leaving@example.org") is not None
    page.click("button:has-text('Unsubscribe')")
    assert "will get no more digests" in page.locator("p.ok").inner_text()
    assert store.subscriber_preferences("browser.leaving@example.org") is None


def test_digest_email_screenshot(page: object, web_server: WebServer, shots: Path) -> None:
    """The HTML digest as written to data/digests, as a phone's mail client would show it."""
    html = (web_server.data.settings.digest_dir / "digest-0001.html").read_text(encoding="utf-8")
    page.set_content(html)
    assert page.locator("h2").first.inner_text().startswith("New attacks")
    screenshot(page, shots, "digest-email")
    # The archive shows the same email in its sandboxed frame.
    page.goto("/digests/1")
    frame = page.frame_locator("iframe.email")
    assert frame.locator("h2").first.inner_text().startswith("New attacks")
