"""Shared fixtures: Prefect's test harness, a local HTTP site, a local SMTP server, settings.

Everything is real and local: the HTTP server and aiosmtpd listen on 127.0.0.1, the database is
a SQLite file in a temporary folder (or, for tests/test_postgres.py, a new database on the
PostgreSQL server at BASEWATCH_TEST_POSTGRES_URL), and flows run on Prefect's ephemeral test server.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

# Prefect reads its settings when it is imported, so the environment the CLI would set
# (quiet logging, no analytics, its own home) goes in first.
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
_PREFECT_DATA = Path(tempfile.mkdtemp(prefix="basewatch-tests-"))
atexit.register(shutil.rmtree, _PREFECT_DATA, ignore_errors=True)

from flows.prefect_env import prefect_environment

os.environ.update(prefect_environment(_PREFECT_DATA))

import email
import email.policy
import gzip
import hashlib
import itertools
import logging
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import pytest
import yaml
from aiosmtpd.controller import Controller
from history_site import HistoryPage, HistorySite

from flows.settings import Settings, load_settings

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
DATA = TESTS / "data"
SITE = DATA / "site"
SEEDS = REPO / "seeds"
SEED_NAME = "000_ac9f42923b428470"

# Longer than any read timeout the tests give the fetcher (0.5 s), so the slow route times out.
SLOW_SECONDS = 2.0
DEFAULT_FEED = ("erbil-rockets-2021-02-16", "asad-rockets-2021-03-03")
BROKEN_XML = (
    b'<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Broken feed</title>\n'
    b"<description>unclosed <b>tag</description>\n</chanel></rss"
)
BASEWATCH_LOGGERS = ("basewatch", "flows", "extract", "reports")


# -- Prefect -------------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    """Run every flow of the session on Prefect's ephemeral test server."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Keep BASEWATCH_* from the outer environment out, and undo the CLI's logging setup."""
    for key in [k for k in os.environ if k.startswith("BASEWATCH_")]:
        monkeypatch.delenv(key)
    root = logging.getLogger()
    saved = (
        list(root.handlers),
        root.level,
        {name: logging.getLogger(name).level for name in BASEWATCH_LOGGERS},
    )
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])
    for name, level in saved[2].items():
        logging.getLogger(name).setLevel(level)


# -- the local HTTP site ------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenRequest:
    """A request the site answered."""

    path: str
    headers: dict[str, str]
    status: int


class Site:
    """What the HTTP handler serves: article pages, feeds (built per request), fault routes."""

    def __init__(self) -> None:
        self.server: ThreadingHTTPServer | None = None
        self.articles: dict[str, dict[str, Any]] = yaml.safe_load(
            (SITE / "articles.yaml").read_text(encoding="utf-8")
        )
        self.feeds: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[SeenRequest] = []
        self.robots: str | None = None  # served at /robots.txt when set (else 404)
        self.busy_served: dict[str, int] = {}
        self.histories: list[HistorySite] = []  # past-news sites under /historyN/
        self.lock = threading.Lock()
        self._keys = itertools.count(1)

    @property
    def base(self) -> str:
        """Return http://127.0.0.1:PORT."""
        assert self.server is not None
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def url(self, path: str) -> str:
        """Return the absolute URL of a path on this site."""
        return self.base + path

    def article_url(self, name: str) -> str:
        """Return the URL of an article page."""
        return self.url(f"/articles/{name}.html")

    def article_item(self, name: str, **changes: Any) -> dict[str, Any]:
        """Return the feed item for an article page (title and date from articles.yaml)."""
        meta = self.articles[name]
        item = {
            "title": meta["title"],
            "link": "{base}" + f"/articles/{name}.html",
            "published": meta["published"],
            "guid": f"testwire-{name}",
        }
        item.update(changes)
        return item

    def add_feed(self, items: list[dict[str, Any]]) -> str:
        """Serve a new feed of these items (a live list: append to it to grow the feed)."""
        key = f"f{next(self._keys)}"
        self.feeds[key] = items
        return self.url(f"/feeds/{key}.xml")

    def add_history(self, pages: list[HistoryPage]) -> HistorySite:
        """Serve a past-news site (pages, paged feed, sitemaps, GDELT-like API) under a new
        prefix; see tests/history_site.py."""
        history = HistorySite(pages, prefix=f"/history{next(self._keys)}")
        history.base = self.base
        self.histories.append(history)
        return history

    def requests_to(self, path: str) -> list[SeenRequest]:
        """Return the requests made for a path (with its query), in order."""
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def feed_xml(self, items: list[dict[str, Any]]) -> bytes:
        """Return RSS 2.0 for the items, with links made absolute for this server's port."""
        parts = [
            '<?xml version="1.0" encoding="utf-8"?>',
            '<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/">',
            "<channel><title>Test Wire</title>",
            f"<link>{escape(self.base)}/</link><description>Test feed</description>",
        ]
        for item in items:
            # Character references keep CR and LF in a title (XML would normalise raw ones).
            title = escape(item["title"], {"\r": "&#13;", "\n": "&#10;"})
            link = escape(item["link"].replace("{base}", self.base))
            parts.append(f"<item><title>{title}</title><link>{link}</link>")
            if item.get("guid"):
                parts.append(f'<guid isPermaLink="false">{escape(item["guid"])}</guid>')
            if item.get("published"):
                published = item["published"]
                if isinstance(published, str):
                    published = datetime.fromisoformat(published)
                parts.append(f"<pubDate>{format_datetime(published)}</pubDate>")
            if item.get("content"):
                parts.append(f"<content:encoded><![CDATA[{item['content']}]]></content:encoded>")
            parts.append("</item>")
        parts.append("</channel></rss>")
        return "\n".join(parts).encode("utf-8")


class _Handler(BaseHTTPRequestHandler):
    site: Site  # set on the subclass made per server
    server_version = "basewatch-test-site/1"

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output clean."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        path = parts.path
        if path == "/feed.xml":
            items = [self.site.article_item(name) for name in DEFAULT_FEED]
            self._send(200, self.site.feed_xml(items), "application/rss+xml")
        elif path.startswith("/feeds/") and path.endswith(".xml"):
            items = self.site.feeds.get(path.removeprefix("/feeds/").removesuffix(".xml"))
            if items is None:
                self._send(404, b"no such feed", "text/plain")
            else:
                self._send(200, self.site.feed_xml(list(items)), "application/rss+xml")
        elif path.startswith("/articles/"):
            page = SITE / "articles" / path.removeprefix("/articles/")
            if page.suffix == ".html" and page.is_file():
                self._send(200, page.read_bytes(), "text/html; charset=utf-8")
            else:
                self._send(404, b"<html><body>Not found</body></html>", "text/html")
        elif path.startswith("/status/"):
            code = int(path.removeprefix("/status/"))
            self._send(code, f"status {code}".encode(), "text/plain", etag=False)
        elif path == "/slow":
            time.sleep(SLOW_SECONDS)
            items = [self.site.article_item(name) for name in DEFAULT_FEED]
            self._send(200, self.site.feed_xml(items), "application/rss+xml")
        elif path == "/robots.txt" and self.site.robots is not None:
            self._send(200, self.site.robots.encode(), "text/plain", etag=False)
        elif path == "/busy":
            # 503 with Retry-After on the first request, then the feed.
            with self.site.lock:
                count = self.site.busy_served.get(self.path, 0)
                self.site.busy_served[self.path] = count + 1
            if count == 0:
                self._send(
                    503,
                    b"busy",
                    "text/plain",
                    etag=False,
                    headers={"Retry-After": query.get("after", ["1"])[0]},
                )
            else:
                items = [self.site.article_item(name) for name in DEFAULT_FEED]
                self._send(200, self.site.feed_xml(items), "application/rss+xml")
        elif path == "/invalid.xml":
            self._send(200, BROKEN_XML, "application/rss+xml")
        elif path == "/big":
            size = int(query.get("size", ["100000"])[0])
            self._send(200, b"x" * size, "text/plain", etag=False)
        elif path == "/big-stream":
            # HTTP/1.0 without Content-Length: the body ends when the connection closes.
            size = int(query.get("size", ["100000"])[0])
            self._record(200)
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            for _ in range(size // 1000):
                self.wfile.write(b"x" * 1000)
        elif path == "/gzip-bomb":
            body = gzip.compress(b"\0" * 2_000_000)
            self._send(200, body, "text/plain", etag=False, headers={"Content-Encoding": "gzip"})
        elif path == "/redirect":
            self._record(302)
            self.send_response(302)
            self.send_header("Location", query["to"][0])
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            for history in self.site.histories:
                answer = history.answer(path, parts.query)
                if answer is not None:
                    status, body, content_type = answer
                    self._send(status, body, content_type, etag=False)
                    return
            self._send(404, b"not found", "text/plain")

    def _record(self, status: int) -> None:
        with self.site.lock:
            self.site.requests.append(SeenRequest(self.path, dict(self.headers.items()), status))

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        *,
        etag: bool = True,
        headers: dict[str, str] | None = None,
    ) -> None:
        tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"' if etag and status == 200 else None
        if tag and self.headers.get("If-None-Match") == tag:
            self._record(304)
            self.send_response(304)
            self.send_header("ETag", tag)
            self.end_headers()
            return
        self._record(status)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if tag:
            self.send_header("ETag", tag)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (the slow route after its read timeout) is expected here.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


@pytest.fixture(scope="session")
def site() -> Iterator[Site]:
    """A real HTTP server on 127.0.0.1 (port chosen by the OS), serving tests/data/site."""
    state = Site()
    handler = type("Handler", (_Handler,), {"site": state})
    server = _Server(("127.0.0.1", 0), handler)
    state.server = server
    thread = threading.Thread(target=server.serve_forever, name="test-site", daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


# -- the local SMTP server ----------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message as the SMTP server accepted it for one recipient."""

    recipient: str
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        """Return the parsed message."""
        return email.message_from_bytes(self.raw, policy=email.policy.default)  # type: ignore[return-value]


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on (now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class SmtpSink:
    """aiosmtpd on 127.0.0.1 that keeps every message; addresses in ``refuse`` get a 550."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.refuse: set[str] = set()
        self.running = False
        self.port = free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        for recipient in envelope.rcpt_tos:
            self.received.append(Received(recipient, envelope.content))
        return "250 Message accepted for delivery"

    def start(self) -> SmtpSink:
        """Start listening."""
        self.controller.start()
        self.running = True
        return self

    def stop(self) -> None:
        """Stop listening (idempotent)."""
        if self.running:
            self.controller.stop()
            self.running = False

    def for_recipient(self, address: str) -> list[Received]:
        """Return the messages accepted for one address."""
        return [r for r in self.received if r.recipient == address]


@pytest.fixture(scope="session")
def smtp_factory() -> Iterator[Callable[[], SmtpSink]]:
    """Start aiosmtpd servers on demand; all are stopped at the end of the session."""
    sinks: list[SmtpSink] = []

    def start() -> SmtpSink:
        sink = SmtpSink().start()
        sinks.append(sink)
        return sink

    yield start
    for sink in sinks:
        sink.stop()


@pytest.fixture
def smtp_server(smtp_factory: Callable[[], SmtpSink]) -> Iterator[SmtpSink]:
    """A running aiosmtpd server for one test."""
    sink = smtp_factory()
    yield sink
    sink.stop()


# -- settings and sources files -----------------------------------------------------------------


def write_sources(path: Path, feeds: list[dict[str, str]]) -> Path:
    """Write a sources file (``feeds: [{name, url} | {name, path}]``) and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({"feeds": feeds}, sort_keys=False), encoding="utf-8")
    return path


def build_settings(
    folder: Path,
    feeds: list[dict[str, str]],
    *,
    smtp: SmtpSink | None = None,
    sources_name: str = "sources.yaml",
    **overrides: Any,
) -> Settings:
    """Return fast test settings on a data folder, with a sources file written beside it."""
    values: dict[str, Any] = {
        "data_dir": folder / "data",
        "sources": write_sources(folder / sources_name, feeds),
        "retries": 1,
        "retry_delay": 0.01,
        "read_timeout": 0.5,
        "connect_timeout": 0.5,
        "min_host_delay": 0.0,  # one host (127.0.0.1) serves every test feed
    }
    if smtp is not None:
        values.update(
            smtp_host="127.0.0.1", smtp_port=smtp.port, smtp_security="none", smtp_timeout=5.0
        )
    if TEST_BACKEND == "postgres":
        values["database_url"] = new_postgres_database(folder)
    values.update(overrides)
    return load_settings(**values)


@pytest.fixture(scope="session")
def settings_builder() -> Callable[..., Settings]:
    """Return build_settings, for fixtures wider than one test."""
    return build_settings


@pytest.fixture
def settings(tmp_path: Path) -> Callable[..., Settings]:
    """Return a factory: settings(feeds, smtp=None, **overrides) on this test's tmp_path."""

    def make(feeds: list[dict[str, str]], **kwargs: Any) -> Settings:
        return build_settings(tmp_path, feeds, **kwargs)

    return make


@pytest.fixture
def seed_dir(tmp_path: Path) -> Path:
    """A folder holding a copy of the seed article and its sidecar only."""
    folder = tmp_path / "seed"
    folder.mkdir()
    for suffix in (".txt", ".yaml"):
        shutil.copy(SEEDS / f"{SEED_NAME}{suffix}", folder / f"{SEED_NAME}{suffix}")
    return folder


# -- PostgreSQL ---------------------------------------------------------------------------------

# BASEWATCH_TEST_BACKEND=postgres runs every test built on `settings` against PostgreSQL: each
# gets a new database (.ci/run runs the whole suite once on SQLite and once this way).
TEST_BACKEND = os.environ.get("BASEWATCH_TEST_BACKEND", "sqlite")
_CREATED_DATABASES: list[str] = []
_DATABASE_FOR_FOLDER: dict[Path, str] = {}


def new_postgres_database(folder: Path) -> str:
    """Return the URL of the PostgreSQL database for a test folder, creating it empty the first
    time (settings built twice on one folder share one database, as they share a SQLite file)."""
    from uuid import uuid4

    from sqlalchemy import create_engine, text

    if folder in _DATABASE_FOR_FOLDER:
        return _DATABASE_FOR_FOLDER[folder]
    if not POSTGRES_URL:
        raise RuntimeError(f"BASEWATCH_TEST_BACKEND=postgres but {POSTGRES_MISSING}")
    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    name = f"basewatch_suite_{uuid4().hex[:12]}"
    with engine.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    _CREATED_DATABASES.append(name)
    url = engine.url.set(database=name).render_as_string(hide_password=False)
    _DATABASE_FOR_FOLDER[folder] = url
    return url


@pytest.fixture(scope="session", autouse=True)
def _drop_suite_databases() -> Iterator[None]:
    """Drop the databases new_postgres_database made, at the end of the session."""
    yield
    if not _CREATED_DATABASES:
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    with engine.connect() as connection:
        for name in _CREATED_DATABASES:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


# Read at import: the autouse _isolated fixture hides every BASEWATCH_* variable from the tests.
POSTGRES_URL = os.environ.get("BASEWATCH_TEST_POSTGRES_URL", "")
POSTGRES_MISSING = "BASEWATCH_TEST_POSTGRES_URL is not set (.ci/run starts PostgreSQL and sets it)"


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[Any]:
    """An AUTOCOMMIT engine on BASEWATCH_TEST_POSTGRES_URL; skipped if unset, failed in CI."""
    if not POSTGRES_URL:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{POSTGRES_MISSING}; CI must test PostgreSQL")
        pytest.skip(POSTGRES_MISSING)
    from sqlalchemy import create_engine

    engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT", pool_size=1)
    yield engine
    engine.dispose()


@pytest.fixture
def postgres_url(postgres_admin: Any) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for one test (dropped afterwards)."""
    from uuid import uuid4

    from sqlalchemy import text

    name = f"basewatch_test_{uuid4().hex[:12]}"
    with postgres_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    with postgres_admin.connect() as connection:
        # FORCE: the store's pooled connections are still open.
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# -- the web app over a store filled by the real ingest -----------------------------------------

HOSTILE_TITLE = "<script>alert('title')</script> Camp Taji\r\nSet-Cookie: stolen=1"
HOSTILE_URL = "JavaScript:alert(document.cookie)"
HOSTILE_MARKUP = '<script>alert("evidence")</script> <a href="javascript:alert(2)">here</a>'


@dataclass(frozen=True)
class WebData:
    """A store filled by ingesting the bundled seeds, the sample feed and a hostile article,
    then digested once (data/digests holds digest-0001.html)."""

    settings: Settings
    hostile_incident: int  # the incident the hostile article reports


@pytest.fixture(scope="session")
def web_data(tmp_path_factory: pytest.TempPathFactory) -> WebData:
    """Ingest and digest once for the web tests (SQLite, or PostgreSQL in the second pass)."""
    from extract.gazetteer import default_gazetteer
    from flows.digest import digest
    from flows.ingest import ingest
    from flows.store import IncidentFilter, open_store

    folder = tmp_path_factory.mktemp("web")
    hostile = folder / "hostile"
    hostile.mkdir()
    text = (DATA / "taji-2020-03" / "camp_taji_rockets_2020_03_12.txt").read_text(encoding="utf-8")
    marked = text.replace("struck Camp Taji,", f"struck Camp Taji {HOSTILE_MARKUP},")
    assert marked != text
    (hostile / "taji.txt").write_text(marked, encoding="utf-8")
    (hostile / "taji.yaml").write_text(
        yaml.safe_dump(
            {"url": HOSTILE_URL, "title": HOSTILE_TITLE, "published": "2020-03-12T10:00:00+03:00"}
        ),
        encoding="utf-8",
    )
    settings = build_settings(
        folder,
        [
            {"name": "seeds", "path": str(SEEDS)},
            {"name": "levant-wire-sample", "path": str(SEEDS / "sample-feed.xml")},
            {"name": "hostile", "path": "hostile"},
        ],
        secret_key="web-tests-secret-key",
    )
    report = ingest(settings)
    # The 15 bundled articles (seeds and sample feed) and the hostile one, all stored.
    assert not report.sources_failed and report.articles_new >= 16, report
    assert digest(settings, send=False).digest_id == 1
    store = open_store(settings.resolved_database_url, default_gazetteer())
    found, _ = store.find_incidents(IncidentFilter(site_id="camp-taji", include_recalled=True))
    hostile_ids = [
        i.id for i in found if any(r.source.url.lower() == HOSTILE_URL.lower() for r in i.reports)
    ]
    assert len(hostile_ids) == 1
    store.engine.dispose()
    return WebData(settings, hostile_ids[0])


@dataclass(frozen=True)
class WebServer:
    """The web app served by uvicorn in a thread on 127.0.0.1."""

    url: str
    data: WebData


@pytest.fixture(scope="session")
def web_server(web_data: WebData) -> Iterator[WebServer]:
    """Serve the web app over web_data's store on a free port, for the whole session."""
    from flows.web import create_app
    from flows.web.server import bind, make_server, url_of

    sock = bind("127.0.0.1", 0)
    server = make_server(create_app(web_data.settings))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name="web", daemon=True
    )
    thread.start()  # the socket already listens: requests queue until uvicorn accepts them
    yield WebServer(url_of(sock), web_data)
    server.should_exit = True
    thread.join(10)
    sock.close()
