"""A news site's past, served on 127.0.0.1: article pages, a WordPress-style paged feed, a
sitemap index with lastmod, and a GDELT DOC 2.0-like article list (tests and benchmarks).

Pages are made from the seed articles (seeds/*.txt), each given its own date and a dateline,
so every page is a distinct article whose relative dates resolve against its own date.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from urllib.parse import parse_qs

SEEDS = Path(__file__).resolve().parents[1] / "seeds"
FEED_PAGE_SIZE = 10
SITEMAP_SIZE = 50
IRAQ = timedelta(hours=3)


@dataclass(frozen=True)
class HistoryPage:
    """One past article of the site."""

    slug: str
    title: str
    published: datetime
    paragraphs: tuple[str, ...]


def seed_texts() -> list[tuple[str, list[str]]]:
    """Return (title, paragraphs) of every seed article."""
    texts = []
    for path in sorted(SEEDS.glob("*.txt")):
        paragraphs = [p.strip() for p in path.read_text(encoding="utf-8").split("\n\n")]
        paragraphs = [" ".join(p.split()) for p in paragraphs if p]
        texts.append((paragraphs[0][:120], paragraphs[1:] or paragraphs))
    return texts


def make_pages(count: int, first: datetime, step: timedelta) -> list[HistoryPage]:
    """Return ``count`` pages, newest last, one every ``step`` from ``first``, cycling through
    the seed texts (each page with its own dateline, so no two have the same text)."""
    texts = seed_texts()
    pages = []
    for number in range(count):
        title, paragraphs = texts[number % len(texts)]
        published = first + number * step
        dateline = (
            f"History Wire item {number + 1}, filed {published:%A %d %B %Y at %H:%M} "
            f"(edition {number % 7 + 1})."
        )
        pages.append(
            HistoryPage(
                slug=f"{published:%Y/%m/%d}/item-{number + 1}",
                title=f"{title} ({number + 1})",
                published=published,
                paragraphs=(dateline, *paragraphs),
            )
        )
    return pages


class HistorySite:
    """What the site serves, built from its pages; ``base`` is set by the server."""

    def __init__(self, pages: list[HistoryPage], prefix: str = "/history") -> None:
        self.pages = pages
        self.prefix = prefix
        self.by_path = {f"{prefix}/{p.slug}.html": p for p in pages}
        self.base = ""
        self.gdelt_requests: list[dict[str, str]] = []
        self.delay = 0.0  # seconds before each article page is answered

    def url(self, page: HistoryPage) -> str:
        """Return the page's absolute URL."""
        return f"{self.base}{self.prefix}/{page.slug}.html"

    def page_html(self, page: HistoryPage) -> bytes:
        """Return the article page, its date in the usual meta tag."""
        body = "\n".join(f"<p>{escape(p)}</p>" for p in page.paragraphs)
        return (
            "<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{escape(page.title)}</title>"
            f"<meta property='article:published_time' content='{page.published.isoformat()}'>"
            "</head><body><header><nav><a href='/'>History Wire</a></nav></header>"
            f"<article><h1>{escape(page.title)}</h1>\n{body}\n</article>"
            "<footer>History Wire, all rights reserved.</footer></body></html>"
        ).encode()

    def feed_page(self, number: int) -> bytes | None:
        """Return page ``number`` of the feed (newest first), or None past the last one."""
        newest = sorted(self.pages, key=lambda p: p.published, reverse=True)
        chunk = newest[(number - 1) * FEED_PAGE_SIZE : number * FEED_PAGE_SIZE]
        if number < 1 or not chunk:
            return None
        items = "".join(
            f"<item><title>{escape(p.title)}</title><link>{escape(self.url(p))}</link>"
            f"<guid>{escape(self.url(p))}</guid>"
            f"<pubDate>{format_datetime(p.published)}</pubDate></item>"
            for p in chunk
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>History Wire</title><link>{self.base}/</link><description>Past news"
            f"</description>{items}</channel></rss>"
        ).encode()

    def _chunks(self) -> list[list[HistoryPage]]:
        ordered = sorted(self.pages, key=lambda p: p.published)
        return [ordered[i : i + SITEMAP_SIZE] for i in range(0, len(ordered), SITEMAP_SIZE)]

    def sitemap_index(self) -> bytes:
        """Return the sitemap index: one child sitemap per 50 pages, lastmod its newest page."""
        entries = "".join(
            f"<sitemap><loc>{self.base}{self.prefix}/sitemaps/{n}.xml</loc>"
            f"<lastmod>{chunk[-1].published.isoformat()}</lastmod></sitemap>"
            for n, chunk in enumerate(self._chunks(), 1)
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</sitemapindex>"
        ).encode()

    def sitemap(self, number: int) -> bytes | None:
        """Return child sitemap ``number`` (lastmod: the page's date), or None."""
        chunks = self._chunks()
        if not 1 <= number <= len(chunks):
            return None
        entries = "".join(
            f"<url><loc>{self.url(p)}</loc><lastmod>{p.published.isoformat()}</lastmod></url>"
            for p in chunks[number - 1]
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"{entries}</urlset>"
        ).encode()

    def gdelt(self, query: str) -> bytes:
        """Answer like GDELT's DOC 2.0 API in ArtList JSON mode: the pages seen between
        startdatetime and enddatetime (UTC, inclusive), oldest first, at most maxrecords."""
        params = {k: v[0] for k, v in parse_qs(query).items()}
        self.gdelt_requests.append(params)
        if params.get("mode", "").lower() != "artlist" or params.get("format") != "json":
            return b"Invalid mode or format."
        start = datetime.strptime(params["startdatetime"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        end = datetime.strptime(params["enddatetime"], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
        limit = min(int(params.get("maxrecords", "75")), 250)
        found = sorted(
            (p for p in self.pages if start <= p.published.astimezone(UTC) <= end),
            key=lambda p: p.published,
        )[:limit]
        if not found:
            return b"{}"  # what GDELT answers when nothing matches
        articles = [
            {
                "url": self.url(p),
                "url_mobile": "",
                "title": p.title,
                "seendate": p.published.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"),
                "socialimage": "",
                "domain": "127.0.0.1",
                "language": "English",
                "sourcecountry": "Iraq",
            }
            for p in found
        ]
        return json.dumps({"articles": articles}).encode()

    def answer(self, path: str, query: str) -> tuple[int, bytes, str] | None:
        """Return (status, body, content type) for a request under the prefix, else None."""
        if not path.startswith(self.prefix + "/"):
            return None
        rest = path.removeprefix(self.prefix)
        if path in self.by_path:
            time.sleep(self.delay)
            return 200, self.page_html(self.by_path[path]), "text/html; charset=utf-8"
        if rest == "/feed":
            number = int(parse_qs(query).get("paged", ["1"])[0])
            body = self.feed_page(number)
            if body is None:
                return 404, b"<html><body>Page not found</body></html>", "text/html"
            return 200, body, "application/rss+xml"
        if rest == "/sitemap_index.xml":
            return 200, self.sitemap_index(), "application/xml"
        if rest.startswith("/sitemaps/") and rest.endswith(".xml"):
            body = self.sitemap(int(rest.removeprefix("/sitemaps/").removesuffix(".xml")))
            if body is not None:
                return 200, body, "application/xml"
        if rest == "/gdelt":
            return 200, self.gdelt(query), "application/json"
        return 404, b"not found", "text/plain"
