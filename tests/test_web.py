"""The web app on a real uvicorn server on 127.0.0.1, over a store filled by the real ingest of
the bundled seeds, the sample feed and a hostile article (see conftest.web_data)."""

from __future__ import annotations

import contextlib
import csv
import email
import email.policy
import io
import json
import logging
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from click.testing import CliRunner
from conftest import (
    HOSTILE_MARKUP,
    HOSTILE_TITLE,
    HOSTILE_URL,
    REPO,
    SmtpSink,
    WebData,
    WebServer,
    free_port,
)
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from extract.gazetteer import default_gazetteer
from extract.preferences import Preferences
from flows.cli import main
from flows.settings import Settings
from flows.store import Store, open_store
from flows.tokens import sign_payload, sign_token
from flows.web.security import CSRF_COOKIE, SECURITY_HEADERS, RateLimiter, safe_next


@pytest.fixture(scope="module")
def client(web_server: WebServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=web_server.url, timeout=30, follow_redirects=False) as c:
        yield c


def error_line(page: str) -> str:
    found = re.search(r'<p class="error"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert found, page
    return found.group(1)


def listed(page: str) -> str:
    """Return the incident list of a page (not the filter form's options)."""
    return page.split('<p class="summary">', 1)[1]


def incident_ids(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'href="/incidents/(\d+)"', page)]


# -- incidents -----------------------------------------------------------------------------------


def test_incidents_list_shows_recent_attacks_newest_first(client: httpx.Client) -> None:
    page = client.get("/incidents")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "Tower 22, Jordan" in page.text
    assert "Camp Taji, Iraq" in page.text
    assert "Drone attack · 1 munition · hit" in page.text  # Tower 22
    assert "Rocket attack · 2 munitions · hit" in page.text  # Camp Taji, June 2020
    ids = incident_ids(page.text)
    assert len(ids) == len(set(ids)) >= 10
    dates = re.findall(r"<strong>(.*?)</strong>", page.text)
    assert dates[0].endswith("2024") and dates[-1].endswith(("2019", "2020"))
    # K-1 (December 2019) is only ever recalled: not in the default list, in the full one.
    assert "K-1 Air Base" not in listed(page.text)
    assert "K-1 Air Base" in listed(client.get("/incidents?scope=all").text)


def test_home_redirects_to_the_incidents(client: httpx.Client) -> None:
    response = client.get("/")
    assert response.status_code == 302 and response.headers["location"] == "/incidents"


@pytest.mark.parametrize(
    "query, present, absent",
    [
        ("country=JO", ["Tower 22"], ["Camp Taji", "Al-Tanf"]),
        ("country=sy", ["Al-Tanf"], ["Tower 22"]),
        ("site=camp-taji", ["Camp Taji"], ["Tower 22", "Erbil"]),
        ("type=drone", ["Tower 22"], ["Camp Taji"]),
        ("since=2024-01-01", ["Tower 22"], ["Camp Taji", "Erbil"]),
        ("since=2020-06-01&until=2020-06-30", ["Camp Taji"], ["Tower 22"]),
        ("type=rocket&country=IQ&until=2020-12-31", ["Camp Taji"], ["Tower 22", "Erbil Air"]),
    ],
)
def test_incident_filters(client: httpx.Client, query: str, present: list, absent: list) -> None:
    page = client.get(f"/incidents?{query}")
    assert page.status_code == 200, page.text
    for name in present:
        assert name in listed(page.text), (query, name)
    for name in absent:
        assert name not in listed(page.text), (query, name)


def test_filters_are_kept_in_the_form_and_the_download_links(client: httpx.Client) -> None:
    page = client.get("/incidents?country=JO&type=drone&since=2024-01-01").text
    assert '<option value="JO" selected>' in page
    assert '<option value="drone" selected>' in page
    assert 'name="since" value="2024-01-01"' in page
    assert 'href="/incidents.csv?country=JO&amp;type=drone&amp;since=2024-01-01"' in page


def test_pagination(client: httpx.Client) -> None:
    from flows.web.filters import PAGE_SIZE

    everything = client.get("/incidents?scope=all").text
    total = int(re.search(r'<p class="summary">(\d+) incidents', everything).group(1))
    assert total == len(incident_ids(everything)) < PAGE_SIZE  # the sample fits one page
    assert 'rel="next"' not in everything
    assert incident_ids(client.get("/incidents?scope=all&page=2").text) == []


@pytest.mark.parametrize(
    "query, message",
    [
        ("country=XX", "country: unknown country code, expected one of"),
        ("site=area-51", "site: no site with this id"),
        ("type=catapult", "type: unknown attack type, expected one of rocket"),
        ("since=2020-13-01", "since: not a date, expected YYYY-MM-DD (&#39;2020-13-01&#39;)"),
        ("until=yesterday", "until: not a date, expected YYYY-MM-DD"),
        ("since=2021-01-02&until=2021-01-01", "since 2021-01-02 is after until 2021-01-01"),
        ("scope=everything", "scope: expected recent or all"),
        ("page=0", "page: expected a page number from 1"),
        ("page=-1", "page: expected a page number from 1"),
        ("page=abc", "page: expected a page number from 1"),
    ],
)
def test_bad_filter_values_are_400_with_a_clear_message(
    client: httpx.Client, query: str, message: str
) -> None:
    for path in ("/incidents", "/incidents.csv", "/incidents.geojson"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400, (path, query)
        assert message in error_line(response.text)
        assert "Traceback" not in response.text


def test_incident_page_has_sources_evidence_and_spread(client: httpx.Client) -> None:
    listing = client.get("/incidents?country=JO").text
    (tower,) = incident_ids(listing)
    page = client.get(f"/incidents/{tower}")
    assert page.status_code == 200
    text = page.text
    assert "Drone attack on Tower 22, Jordan" in text
    assert "Islamic Resistance in Iraq (claimed)" in text
    assert text.count('<p class="source">') == 3  # three articles reported it
    assert 'href="https://desertmeridian.example/2024/01/28/' in text
    assert '<blockquote class="evidence">' in text
    # The first report gave fewer wounded than the revised toll: the spread shows both.
    spread = re.search(r'<table class="spread">(.*?)</table>', text, re.DOTALL).group(1)
    wounded = re.search(r"Wounded</th><td>(\d+)</td><td>(\d+)</td>", spread)
    assert wounded and int(wounded.group(1)) < int(wounded.group(2)) == 41


def test_unknown_incident_and_page_are_404(client: httpx.Client) -> None:
    for path in ("/incidents/999999", "/digests/999", "/digests/999/email", "/no/such/page"):
        response = client.get(path)
        assert response.status_code == 404, path
        assert "<h1>Not found</h1>" in response.text


def test_csv_download_respects_the_filters(client: httpx.Client) -> None:
    response = client.get("/incidents.csv?type=drone")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows and all(r["type"] == "drone" for r in rows)
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)  # oldest first, as the CLI
    every = list(csv.DictReader(io.StringIO(client.get("/incidents.csv").text)))
    assert len(every) > len(rows)


def test_geojson_download_respects_the_filters(client: httpx.Client) -> None:
    response = client.get("/incidents.geojson?country=SY")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    data = json.loads(response.text)
    assert data["type"] == "FeatureCollection" and data["features"]
    for feature in data["features"]:
        assert feature["properties"]["site"]["country"] == "SY"
        lon, lat = feature["geometry"]["coordinates"]
        assert 35 < lon < 43 and 32 < lat < 38  # in Syria


def test_csv_cells_never_start_a_formula() -> None:
    from reports.export import incidents_csv

    item = {
        "id": 1, "date_start": "2024-01-01", "date_end": "2024-01-01", "date_precision": "day",
        "recent": True, "site": None, "location_text": "=HYPERLINK(\"http://evil\")",
        "attack_type": "rocket", "munitions": {"min": None, "max": None}, "outcome": "unknown",
        "killed": {"total": None, "us": None}, "wounded": {"total": None, "us": None},
        "perpetrator": {"name": "@evil", "status": "claimed"}, "sources": [],
    }  # fmt: skip
    row = next(csv.DictReader(io.StringIO(incidents_csv([item]))))
    assert row["site"] == '\'=HYPERLINK("http://evil")'
    assert row["perpetrator"] == "'@evil (claimed)"
    assert row["killed"] == "?" and row["date"] == "2024-01-01"  # ordinary cells as they are


# -- digests -------------------------------------------------------------------------------------


def test_digest_archive_lists_and_shows_the_stored_digest(client: httpx.Client) -> None:
    archive = client.get("/digests")
    assert archive.status_code == 200
    assert 'href="/digests/1"' in archive.text
    assert "basewatch: " in archive.text and "new attacks" in archive.text
    page = client.get("/digests/1")
    assert page.status_code == 200
    assert '<iframe class="email" src="/digests/1/email" sandbox' in page.text
    assert "NEW ATTACKS" in page.text  # the plain-text version, escaped in a <pre>


def test_digest_email_is_served_sandboxed(client: httpx.Client) -> None:
    response = client.get("/digests/1/email")
    assert response.status_code == 200
    policy = response.headers["content-security-policy"]
    assert "sandbox" in policy and "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "frame-ancestors 'self'" in policy
    assert response.headers["x-frame-options"] == "SAMEORIGIN"
    assert "<h2" in response.text and "New attacks" in response.text


# -- security ------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/incidents", "/incidents/1", "/digests", "/no-such-page"])
def test_security_headers_on_every_page(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    for name, value in SECURITY_HEADERS.items():
        assert response.headers[name] == value, (path, name)
    assert "script-src" not in response.headers["content-security-policy"]
    assert "server" not in response.headers


def test_stylesheet_is_served_locally(client: httpx.Client) -> None:
    response = client.get("/static/basewatch.css")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/css")
    page = client.get("/incidents").text
    assert re.findall(r'<link[^>]+href="([^"]+)"', page) == [
        "/static/basewatch.css",
        "/static/favicon.svg",
    ]
    assert client.get("/static/favicon.svg").headers["content-type"] == "image/svg+xml"
    assert client.get("/static/secret.key").status_code == 404
    assert client.get("/static/..%2Fweb.py").status_code == 404
    # Nothing from a CDN or any other host: every link and resource on the list is local.
    assert all(url.startswith("/") for url in re.findall(r'(?:src|href)="([^"]*)"', page))


def test_hostile_values_never_become_markup_or_links(
    client: httpx.Client, web_server: WebServer
) -> None:
    incident = web_server.data.hostile_incident
    responses = {
        "incident": client.get(f"/incidents/{incident}"),
        "list": client.get("/incidents?site=camp-taji&scope=all"),
        "digest": client.get("/digests/1"),
        "email": client.get("/digests/1/email"),
        "csv": client.get("/incidents.csv?site=camp-taji&scope=all"),
    }
    for name, response in responses.items():
        assert response.status_code == 200, name
        assert "stolen" not in str(response.headers).lower(), name  # the CR/LF title
    assert HOSTILE_URL.lower() in responses["csv"].text.lower()  # a cell of text, not a link
    pages = {name: r.text for name, r in responses.items() if name != "csv"}
    # The payloads reached the pages (else this test would prove nothing) ...
    assert (
        "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Camp Taji Set-Cookie: stolen=1"
        in (pages["incident"])
    )
    assert "&lt;script&gt;alert(&#34;evidence&#34;)&lt;/script&gt;" in pages["incident"]
    assert HOSTILE_URL.lower() in pages["incident"].lower()  # shown as text
    for name, page in pages.items():
        lowered = page.lower()
        # ... but as text only: no script element, no javascript: link, no raw CR/LF title.
        assert "<script" not in lowered, name
        assert 'href="javascript:' not in lowered, name
        assert HOSTILE_MARKUP not in page, name
        assert HOSTILE_TITLE not in page and "\r" not in page, name
        hrefs = re.findall(r"""<[a-z]+\b[^>]*\bhref\s*=\s*["']?([^"'\s>]*)""", page, re.IGNORECASE)
        assert all(h.startswith(("/", "http://", "https://")) for h in hrefs), (name, hrefs)


def test_no_user_value_reaches_a_header(client: httpx.Client) -> None:
    response = client.get("/incidents", params={"country": "IQ\r\nSet-Cookie: stolen=1"})
    assert response.status_code == 400
    assert "stolen" not in str(response.headers).lower()


@pytest.mark.parametrize(
    "target, expected",
    [
        ("/incidents?country=IQ", "/incidents?country=IQ"),
        ("/preferences", "/preferences"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example/", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/incidents\r\nSet-Cookie: x=1", "/"),
        ("http:/evil.example", "/"),
        ("", "/"),
        (None, "/"),
    ],
)
def test_safe_next_only_allows_local_paths(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected


def test_rate_limiter_lets_one_event_per_key_per_interval() -> None:
    now = [0.0]
    limiter = RateLimiter(600, max_keys=2, clock=lambda: now[0])
    assert limiter.allow("a") and not limiter.allow("a") and limiter.allow("b")
    assert not limiter.allow("c")  # full: new keys wait too
    now[0] = 599
    assert not limiter.allow("a")
    now[0] = 600  # a and b expired
    assert limiter.allow("c") and limiter.allow("a") and not limiter.allow("b")
    limiter.forget("a")  # its mail failed: it may try again at once
    assert limiter.allow("a") and not limiter.allow("b")  # full again (c, a)


# -- subscribers ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(web_server: WebServer) -> Iterator[Store]:
    store = open_store(web_server.data.settings.resolved_database_url, default_gazetteer())
    yield store
    store.engine.dispose()


def signed(web_server: WebServer, email: str, purpose: str) -> str:
    return sign_token(email, purpose, web_server.data.settings.resolved_secret_key)


def form_token(client: httpx.Client, path: str) -> str:
    """GET a form page (which sets the CSRF cookie) and return the form's CSRF token."""
    page = client.get(path)
    assert page.status_code == 200, page.text
    return re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)


@pytest.fixture
def browser_like(web_server: WebServer) -> Iterator[httpx.Client]:
    """A client with its own cookie jar (a new visitor)."""
    with httpx.Client(base_url=web_server.url, timeout=30, follow_redirects=False) as c:
        yield c


def confirmation_mails(web_server: WebServer, address: str) -> list[EmailMessage]:
    """Return the confirmation mails the web app wrote to the outbox for an address."""
    outbox = web_server.data.settings.outbox_dir
    name = re.compile(rf"confirm-\d+-{re.escape(address)}\.eml")
    return [
        email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for path in sorted(outbox.glob("confirm-*.eml"))
        if name.fullmatch(path.name)
    ]


def mail_link(message: EmailMessage, path: str, base_url: str = "http://127.0.0.1:8080") -> str:
    """Return the local path and query of the link to ``path`` in both parts of a mail (the
    link points at BASEWATCH_BASE_URL; the test server listens elsewhere)."""
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    [link] = re.findall(rf"{re.escape(base_url)}{path}\?token=[\w.-]+", text)
    assert f'href="{link}"' in html
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


def subscribe(client: httpx.Client, address: str, **fields: object) -> httpx.Response:
    token = form_token(client, "/subscribe")
    return client.post("/subscribe", data={"csrf_token": token, "email": address, **fields})


def test_subscribe_mails_a_confirm_link_and_subscribes_only_on_confirm(
    web_server: WebServer, browser_like: httpx.Client, store: Store
) -> None:
    token = form_token(browser_like, "/subscribe")
    assert browser_like.cookies.get(CSRF_COOKIE)
    response = browser_like.post(
        "/subscribe",
        data={
            "csrf_token": token,
            "email": "new.reader@Example.ORG",
            "countries": ["IQ", "SY"],
            "attack_types": ["drone"],
            "min_severity": "us_casualties",
            "cadence": "weekly",
            "timezone": "Asia/Baghdad",
            "format": "text",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/subscribe/done"
    done = browser_like.get("/subscribe/done")
    assert "Check your inbox" in done.text
    assert store.subscriber_preferences("new.reader@example.org") is None  # not yet
    [mail] = confirmation_mails(web_server, "new.reader@example.org")
    assert mail["Subject"] == "Confirm your basewatch subscription"
    assert mail["To"] == "new.reader@example.org"
    assert mail["From"] == web_server.data.settings.mail_from
    assert mail["List-Unsubscribe"] is None
    link = mail_link(mail, "/confirm")
    # GET (what a mail scanner prefetching the link does) only asks.
    page = browser_like.get(link)
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert '<strong class="email">new.reader@example.org</strong>' in page.text
    assert store.subscriber_preferences("new.reader@example.org") is None
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    csrf = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)
    confirmed = browser_like.post(action.replace("&amp;", "&"), data={"csrf_token": csrf})
    assert confirmed.status_code == 200 and confirmed.headers["cache-control"] == "no-store"
    assert "is subscribed" in confirmed.text
    assert store.subscriber_preferences("new.reader@example.org") == Preferences(
        countries=("IQ", "SY"),
        attack_types=("drone",),
        min_severity="us_casualties",
        cadence="weekly",
        timezone="Asia/Baghdad",
        format="text",
    )
    preferences = re.search(r'<a href="(/preferences\?token=[^"]+)">', confirmed.text).group(1)
    page = browser_like.get(preferences.replace("&amp;", "&"))
    assert page.status_code == 200 and "new.reader@example.org" in page.text
    # Confirming again changes nothing and says the same.
    again = browser_like.post(action.replace("&amp;", "&"), data={"csrf_token": csrf})
    assert again.status_code == 200 and "is subscribed" in again.text


def test_a_second_submit_within_the_limit_sends_no_second_mail(
    web_server: WebServer, browser_like: httpx.Client, store: Store
) -> None:
    first = subscribe(browser_like, "twice@example.org", cadence="weekly")
    second = subscribe(browser_like, "Twice@EXAMPLE.org", cadence="daily")
    for response in (first, second):  # the same answer: it tells nothing
        assert (response.status_code, response.headers["location"]) == (303, "/subscribe/done")
    assert len(confirmation_mails(web_server, "twice@example.org")) == 1
    assert confirmation_mails(web_server, "Twice@example.org") == []
    assert store.subscriber_preferences("twice@example.org") is None


def test_an_address_already_subscribed_is_mailed_its_preferences_link(
    web_server: WebServer, browser_like: httpx.Client, store: Store
) -> None:
    store.add_subscriber("kept@example.org", Preferences(countries=("JO",)))
    response = subscribe(browser_like, "kept@example.org", cadence="weekly")
    assert (response.status_code, response.headers["location"]) == (303, "/subscribe/done")
    assert store.subscriber_preferences("kept@example.org") == Preferences(countries=("JO",))
    [mail] = confirmation_mails(web_server, "kept@example.org")
    assert "/confirm?" not in mail.get_body(("plain",)).get_content()
    page = browser_like.get(mail_link(mail, "/preferences"))
    assert page.status_code == 200 and 'value="JO" checked' in page.text
    # A confirm link for an address subscribed meanwhile keeps its preferences.
    token = sign_payload(
        {"email": "kept@example.org", "prefs": {"cadence": "weekly"}},
        "confirm",
        web_server.data.settings.resolved_secret_key,
    )
    csrf = form_token(browser_like, f"/confirm?token={token}")
    done = browser_like.post(f"/confirm?token={token}", data={"csrf_token": csrf})
    assert done.status_code == 200
    assert store.subscriber_preferences("kept@example.org") == Preferences(countries=("JO",))


def expired_confirm_token(secret: str, payload: dict) -> str:
    class PastSigner(TimestampSigner):
        def get_timestamp(self) -> int:
            return super().get_timestamp() - 3 * 86400  # the link works for 2 days

    return URLSafeTimedSerializer(secret, salt="basewatch-confirm", signer=PastSigner).dumps(
        payload
    )


@pytest.mark.parametrize(
    "token, message",
    [
        ("", "this page needs the confirm link from the email we sent"),
        ("garbage", "confirm link is not valid"),
        ("forged", "confirm link is not valid"),
        ("other-key", "confirm link is not valid"),
        ("preferences", "confirm link is not valid"),  # a token made for another purpose
        ("address only", "confirm link is not valid"),  # sign_token's, not a payload
        ("expired", "confirm link has expired; ask for a new one"),
    ],
)
def test_bad_confirm_links_are_400_and_subscribe_nobody(
    web_server: WebServer, browser_like: httpx.Client, store: Store, token: str, message: str
) -> None:
    secret = web_server.data.settings.resolved_secret_key
    payload = {"email": "forger@example.org", "prefs": {}}
    token = {
        "forged": sign_payload(payload, "confirm", secret)[:-3] + "xyz",
        "other-key": sign_payload(payload, "confirm", "another-secret-key"),
        "preferences": sign_payload(payload, "preferences", secret),
        "address only": sign_token("forger@example.org", "confirm", secret),
        "expired": expired_confirm_token(secret, payload),
    }.get(token, token)
    page = browser_like.get("/confirm", params={"token": token})
    assert page.status_code == 400
    assert message in error_line(page.text)
    csrf = form_token(browser_like, "/subscribe")
    response = browser_like.post("/confirm", params={"token": token}, data={"csrf_token": csrf})
    assert response.status_code == 400
    assert message in error_line(response.text)
    assert store.subscriber_preferences("forger@example.org") is None


def test_confirm_post_without_a_valid_csrf_token_is_refused(
    web_server: WebServer, browser_like: httpx.Client, store: Store
) -> None:
    payload = {"email": "csrf-confirm@example.org", "prefs": {}}
    token = sign_payload(payload, "confirm", web_server.data.settings.resolved_secret_key)
    browser_like.get("/confirm", params={"token": token})
    response = browser_like.post("/confirm", params={"token": token}, data={"csrf_token": "0"})
    assert response.status_code == 403
    assert store.subscriber_preferences("csrf-confirm@example.org") is None


@contextlib.contextmanager
def serve(settings: Settings) -> Iterator[str]:
    """Serve another app over the same store with other settings; yield its URL."""
    from flows.web import create_app
    from flows.web.server import bind, make_server, url_of

    sock = bind("127.0.0.1", 0)
    server = make_server(create_app(settings))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_the_confirmation_mail_goes_over_smtp_when_configured(
    web_server: WebServer, smtp_server: SmtpSink, store: Store
) -> None:
    settings = web_server.data.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": smtp_server.port, "smtp_security": "none"}
    )
    with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        response = subscribe(client, "smtp.reader@example.org", countries=["JO"])
        assert response.status_code == 303
    [received] = smtp_server.for_recipient("smtp.reader@example.org")
    message = received.message
    assert message["Subject"] == "Confirm your basewatch subscription"
    assert message["To"] == "smtp.reader@example.org"
    assert mail_link(message, "/confirm").startswith("/confirm?token=")
    assert store.subscriber_preferences("smtp.reader@example.org") is None


def test_a_mail_failure_is_one_log_line_and_a_polite_page(
    web_server: WebServer, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    # Nothing listens on the port: the SMTP connection is refused.
    settings = web_server.data.settings.model_copy(
        update={"smtp_host": "127.0.0.1", "smtp_port": free_port(), "smtp_security": "none"}
    )
    caplog.set_level(logging.INFO, logger="flows")
    with serve(settings) as url, httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(2):  # a failed mail does not count against the limit: retry at once
            caplog.clear()
            response = subscribe(client, "unlucky@example.org")
            assert response.status_code == 503
            assert "the confirmation email could not be sent; please try again later" in (
                error_line(response.text)
            )
            assert "Traceback" not in response.text
            [record] = [r for r in caplog.records if r.name.startswith("flows")]
            assert record.levelno == logging.WARNING and record.exc_info is None
            assert record.getMessage().startswith("subscribe: confirmation mail not sent: SMTP")
            assert "\n" not in record.getMessage()
    assert store.subscriber_preferences("unlucky@example.org") is None


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"email": "not an address"}, "not an email address: &#39;not an address&#39;"),
        ({"email": "a@example.org\r\nBcc: victim@example.org"}, "not an email address"),
        ({"email": "b@example.org", "countries": "XX"}, "country: unknown code &#39;XX&#39;"),
        ({"email": "b@example.org", "cadence": "hourly"}, "cadence: &#39;hourly&#39; is not one"),
        ({"email": "b@example.org", "timezone": "Mars/Olympus"}, "timezone: unknown"),
    ],
)
def test_subscribe_form_errors_are_400_with_the_form_again(
    web_server: WebServer, browser_like: httpx.Client, store: Store, fields: dict, message: str
) -> None:
    token = form_token(browser_like, "/subscribe")
    response = browser_like.post("/subscribe", data={"csrf_token": token, **fields})
    assert response.status_code == 400
    assert message in error_line(response.text)
    assert 'action="/subscribe"' in response.text
    assert store.subscriber_preferences("b@example.org") is None
    assert confirmation_mails(web_server, "b@example.org") == []
    assert not list(web_server.data.settings.outbox_dir.glob("confirm-*victim*"))


@pytest.mark.parametrize("case", ["no token", "token of another cookie", "no cookie", "forged"])
def test_form_posts_without_a_valid_csrf_token_are_refused(
    web_server: WebServer, browser_like: httpx.Client, store: Store, case: str
) -> None:
    email = f"csrf-{case.replace(' ', '-')}@example.org"
    token = form_token(browser_like, "/subscribe")
    data = {"email": email, "csrf_token": token}
    if case == "no token":
        del data["csrf_token"]
    elif case == "token of another cookie":
        with httpx.Client(base_url=web_server.url) as other:
            data["csrf_token"] = form_token(other, "/subscribe")
    elif case == "no cookie":
        browser_like.cookies.clear()
    else:
        data["csrf_token"] = "0" * 64
    response = browser_like.post("/subscribe", data=data)
    assert response.status_code == 403
    assert "reload it and retry" in error_line(response.text)
    assert store.subscriber_preferences(email) is None
    # The preferences form is protected the same way.
    store.add_subscriber(email)
    link = signed(web_server, email, "preferences")
    response = browser_like.post("/preferences", data={**data, "token": link, "cadence": "weekly"})
    assert response.status_code == 403
    assert store.subscriber_preferences(email) == Preferences()


def test_csrf_cookie_is_http_only_and_strict(browser_like: httpx.Client) -> None:
    header = browser_like.get("/subscribe").headers["set-cookie"]
    assert header.startswith(f"{CSRF_COOKIE}=")
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/" in header


def test_preferences_page_via_signed_link(
    web_server: WebServer, browser_like: httpx.Client, store: Store
) -> None:
    store.add_subscriber("prefs@example.org", Preferences(countries=("IQ",), cadence="weekly"))
    link = signed(web_server, "prefs@example.org", "preferences")
    page = browser_like.get("/preferences", params={"token": link})
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "prefs@example.org" in page.text
    assert 'value="IQ" checked' in page.text
    assert '<option value="weekly" selected>' in page.text
    token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)
    saved = browser_like.post(
        "/preferences",
        data={
            "csrf_token": token,
            "token": link,
            "countries": ["JO"],
            "attack_types": ["drone", "rocket"],
            "min_severity": "casualties",
            "cadence": "daily",
            "timezone": "Europe/Berlin",
            "format": "html",
        },
    )
    assert saved.status_code == 303
    assert saved.headers["location"].startswith("/preferences?token=")
    assert store.subscriber_preferences("prefs@example.org") == Preferences(
        countries=("JO",),
        attack_types=("drone", "rocket"),
        min_severity="casualties",
        timezone="Europe/Berlin",
    )
    assert "Preferences saved." in browser_like.get(saved.headers["location"]).text


@pytest.mark.parametrize(
    "token, message",
    [
        ("", "this page needs the preferences link from a digest email"),
        ("garbage", "preferences link is not valid"),
        ("unsubscribe", "preferences link is not valid"),  # a token made for another purpose
        ("other-key", "preferences link is not valid"),
    ],
)
def test_bad_preferences_links_are_400(
    web_server: WebServer, client: httpx.Client, token: str, message: str
) -> None:
    if token == "unsubscribe":
        token = signed(web_server, "prefs@example.org", "unsubscribe")
    elif token == "other-key":
        token = sign_token("prefs@example.org", "preferences", "another-secret-key")
    response = client.get("/preferences", params={"token": token})
    assert response.status_code == 400
    assert message in error_line(response.text)


@pytest.mark.parametrize(
    "target, location",
    [
        ("/incidents?country=IQ", "/incidents?country=IQ"),
        ("https://evil.example/", None),
        ("//evil.example/", None),
        ("/\\evil.example", None),
        ("/incidents\r\nSet-Cookie: stolen=1", None),
    ],
)
def test_redirects_after_a_form_stay_on_this_site(
    web_server: WebServer, browser_like: httpx.Client, store: Store, target: str, location: str
) -> None:
    store.add_subscriber("redirect@example.org")
    link = signed(web_server, "redirect@example.org", "preferences")
    token = form_token(browser_like, f"/preferences?token={link}")
    response = browser_like.post(
        "/preferences", data={"csrf_token": token, "token": link, "next": target}
    )
    assert response.status_code == 303
    assert response.headers["location"] == (location or f"/preferences?token={link}&saved=1")
    assert "stolen" not in str(response.headers)
    # The subscribe form's "next" goes through the same check.
    token = form_token(browser_like, "/subscribe")
    response = browser_like.post(
        "/subscribe", data={"csrf_token": token, "email": "r2@example.org", "next": target}
    )
    done = browser_like.get(response.headers["location"])
    back = re.search(r'<a href="([^"]*)">Continue</a>', done.text).group(1)
    assert back == (location or "/incidents").replace("&", "&amp;")


def test_unsubscribe_get_asks_and_post_does_it(
    web_server: WebServer, browser_like: httpx.Client, store: Store
) -> None:
    store.add_subscriber("leaving@example.org")
    link = signed(web_server, "leaving@example.org", "unsubscribe")
    page = browser_like.get("/unsubscribe", params={"token": link})
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Stop sending digests to" in page.text and '<button class="danger"' in page.text
    assert store.subscriber_preferences("leaving@example.org") is not None  # GET changes nothing
    action = re.search(r'<form method="post" action="([^"]+)"', page.text).group(1)
    response = browser_like.post(
        action.replace("&amp;", "&"), data={"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    assert "will get no more digests" in response.text
    assert store.subscriber_preferences("leaving@example.org") is None


def test_one_click_unsubscribe_rfc8058(web_server: WebServer, store: Store) -> None:
    """What a mail client does: POST to the List-Unsubscribe URL, no cookie, no CSRF token."""
    store.add_subscriber("oneclick@example.org")
    link = signed(web_server, "oneclick@example.org", "unsubscribe")
    url = f"{web_server.url}/unsubscribe?token={link}"
    for content_type in ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        body = (
            b"List-Unsubscribe=One-Click"
            if content_type.startswith("application")
            else b'--x\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\n'
            b"One-Click\r\n--x--\r\n"
        )
        response = httpx.post(url, content=body, headers={"content-type": content_type})
        assert response.status_code == 200  # the second time too: already unsubscribed
        assert store.subscriber_preferences("oneclick@example.org") is None
    assert httpx.post(f"{web_server.url}/unsubscribe?token=forged").status_code == 400


# -- the command ---------------------------------------------------------------------------------


@pytest.mark.parametrize("access_log", [False, True])
def test_basewatch_web_prints_one_line_and_stops_on_ctrl_c(
    web_data: WebData, access_log: bool
) -> None:
    env = {
        **os.environ,
        "BASEWATCH_DATA_DIR": str(web_data.settings.data_dir),
        "BASEWATCH_SECRET_KEY": web_data.settings.resolved_secret_key,
    }
    if web_data.settings.database_url:
        env["BASEWATCH_DATABASE_URL"] = web_data.settings.database_url
    process = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("basewatch")),
            "web",
            "--port",
            "0",
            *(["--access-log"] if access_log else []),
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    try:
        line = process.stdout.readline()
        found = re.fullmatch(
            r"basewatch web: serving on (http://127\.0\.0\.1:\d+) \(Ctrl-C to stop\)\n", line
        )
        assert found, line
        assert "Tower 22" in httpx.get(f"{found.group(1)}/incidents", timeout=30).text
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    assert out == "stopped\n"
    if access_log:  # one line per request
        assert re.fullmatch(r'127\.0\.0\.1:\d+ - "GET /incidents HTTP/1\.1" 200\n', err), err
    else:
        assert err == ""  # no framework noise


def test_wrong_method_is_405(client: httpx.Client) -> None:
    response = client.post("/incidents", data={"country": "IQ"})
    assert response.status_code == 405
    assert "<h1>Method not allowed</h1>" in response.text
    assert set(response.headers["allow"].split(", ")) == {"GET", "HEAD"}  # in any order


def test_basewatch_web_port_taken_is_one_error_line(tmp_path, web_server: WebServer) -> None:
    port = web_server.url.rsplit(":", 1)[1]
    result = CliRunner().invoke(main, ["--data-dir", str(tmp_path), "web", "--port", port])
    assert result.exit_code == 1
    assert result.output == f"Error: cannot listen on 127.0.0.1:{port}: Address already in use\n"


def test_other_commands_do_not_load_the_web_app_nor_it_prefect() -> None:
    # Checked in a fresh process: `web` imports Starlette and uvicorn only when it runs, and
    # the web app itself needs no Prefect.
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from flows.cli import main\n"
        "assert CliRunner().invoke(main, ['sites']).exit_code == 0\n"
        "web = {'starlette', 'uvicorn', 'flows.web'}\n"
        "print(sorted(m for m in sys.modules if m in web or m.split('.')[0] in web))\n"
        "import flows.web\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'starlette'}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["[]", "['starlette']"]
