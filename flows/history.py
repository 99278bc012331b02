"""Where backfill finds past articles: paged feeds, sitemaps, GDELT's DOC API, URL list files.

Each function returns the pages a listing gives for a date window (PageIn: URL, title, date),
without fetching the pages themselves. Errors follow flows/fetch.py: FetchError, FeedError.
"""

from __future__ import annotations

import gzip
import io
import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

from lxml import etree

from extract.errors import FeedError, FetchError, InputError
from flows.feeds import parse_feed
from flows.fetch import Fetcher, canonical_url, check_url
from flows.store import PageIn

__all__ = [
    "gdelt_pages",
    "paged_feed_pages",
    "paged_url",
    "read_url_file",
    "sitemap_pages",
]

# A sitemap's lastmod is when a page last changed, not when it was published: a page edited
# this long after the window can still have been published in it.
LASTMOD_GRACE = timedelta(days=7)
# GDELT's DOC API takes windows down to the second; below an hour, a full window is kept as is.
GDELT_MIN_WINDOW = timedelta(hours=1)
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_SITEMAPS = 1000  # of one index, nested indexes included
_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


def _day_start(day: date) -> datetime:
    return datetime.combine(day, day_time(0), UTC)


def _in_window(when: datetime | None, since: date, until: date) -> bool:
    return when is None or since <= when.date() <= until


def paged_url(feed_url: str, page: int) -> str:
    """Return the feed URL for a WordPress-style page number (``?paged=N``)."""
    parts = urlsplit(feed_url)
    query = "&".join(q for q in parts.query.split("&") if q and not q.startswith("paged="))
    query = f"{query}&paged={page}" if query else f"paged={page}"
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def paged_feed_pages(
    fetcher: Fetcher, feed_url: str, name: str, since: date, until: date, max_pages: int
) -> list[PageIn]:
    """Return the entries of ``?paged=1, 2, ...`` published since..until; paging stops at an
    empty page, a 404, or a page whose entries are all older than ``since``."""
    found: list[PageIn] = []
    for page in range(1, max_pages + 1):
        url = paged_url(feed_url, page)
        check_url(url)
        try:
            response = fetcher.get(url)
        except FetchError as exc:
            if page > 1 and str(exc).startswith("HTTP 404"):
                break  # WordPress answers 404 past the last page
            raise
        entries = parse_feed(response.content, name) if response.content.strip() else []
        if not entries:
            break
        for entry in entries:
            published = entry.published
            if published is not None and _in_window(published, since, until):
                found.append(PageIn(entry.link, entry.title, published))
        dated = [e.published for e in entries if e.published is not None]
        if dated and max(dated).date() < since:
            break
    return found


def _xml_root(content: bytes, url: str, limit: int) -> etree._Element:
    if content[:2] == b"\x1f\x8b":  # a .xml.gz sitemap
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(content)) as packed:
                content = packed.read(limit + 1)
        except (OSError, EOFError) as exc:
            raise FeedError(f"sitemap {url}: bad gzip data ({exc})") from exc
        if len(content) > limit:
            raise FetchError(f"sitemap {url}: larger than {limit} bytes unpacked")
    try:
        return etree.fromstring(content, _XML)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"sitemap {url}: not valid XML ({exc})") from exc


def _lastmod(node: etree._Element) -> datetime | None:
    text = (node.findtext(f"{SITEMAP_NS}lastmod") or node.findtext("lastmod") or "").strip()
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)  # Python 3.11 reads a trailing Z
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _loc(node: etree._Element) -> str:
    return (node.findtext(f"{SITEMAP_NS}loc") or node.findtext("loc") or "").strip()


def sitemap_pages(fetcher: Fetcher, url: str, since: date, until: date) -> list[PageIn]:
    """Return the pages of a sitemap (or a sitemap index, followed) whose lastmod may fall in
    the window: modified before ``since`` cannot have been published in it; modified more than
    LASTMOD_GRACE after ``until`` is taken as published after it. Pages without lastmod are
    kept (their own date decides after the fetch)."""
    earliest, latest = _day_start(since), _day_start(until) + timedelta(days=1) + LASTMOD_GRACE
    queue, seen, found = [url], set(), []
    while queue:
        sitemap = queue.pop(0)
        if sitemap in seen or len(seen) >= MAX_SITEMAPS:
            continue
        seen.add(sitemap)
        check_url(sitemap)
        root = _xml_root(fetcher.get(sitemap).content, sitemap, fetcher.max_bytes)
        tag = etree.QName(root).localname
        if tag == "sitemapindex":
            for child in root:
                loc, lastmod = _loc(child), _lastmod(child)
                if loc and (lastmod is None or lastmod >= earliest):
                    queue.append(loc)
        elif tag == "urlset":
            for child in root:
                loc, lastmod = _loc(child), _lastmod(child)
                if loc and (lastmod is None or earliest <= lastmod < latest):
                    found.append(PageIn(canonical_url(loc)))
        else:
            raise FeedError(f"sitemap {sitemap}: expected <urlset> or <sitemapindex>, got <{tag}>")
    return found


def _gdelt_time(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def _seen_date(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except (TypeError, ValueError):
        return None


def gdelt_pages(
    fetcher: Fetcher,
    base_url: str,
    query: str,
    since: date,
    until: date,
    *,
    interval: float,
    max_records: int,
    chunk: timedelta,
    sleep: Callable[[float], None] = time.sleep,
) -> list[PageIn]:
    """Return the articles GDELT's DOC 2.0 API lists for the query since..until.

    The window is asked for in chunks; a chunk that comes back full (``max_records``, at most
    250) is split in two and asked again, so no article is cut off. Requests are at least
    ``interval`` seconds apart (GDELT asks for one every 5 s).
    """
    found: dict[str, PageIn] = {}
    windows: list[tuple[datetime, datetime]] = []
    start, end = _day_start(since), _day_start(until) + timedelta(days=1)
    while start < end:
        windows.append((start, min(start + chunk, end)))
        start += chunk
    last = 0.0
    while windows:
        first, stop = windows.pop(0)
        wait = last + interval - time.monotonic()
        if last and wait > 0:
            sleep(wait)
        last = time.monotonic()
        params = {
            "query": query,
            "mode": "ArtList",
            "format": "json",
            "maxrecords": str(max_records),
            "sort": "DateAsc",
            "startdatetime": _gdelt_time(first),
            "enddatetime": _gdelt_time(stop - timedelta(seconds=1)),
        }
        url = f"{base_url}?{urlencode(params)}"
        check_url(url)
        articles = _gdelt_articles(fetcher.get(url).content)
        if len(articles) >= max_records and stop - first > GDELT_MIN_WINDOW:
            middle = first + (stop - first) / 2
            windows[:0] = [(first, middle), (middle, stop)]
            continue
        for item in articles:
            link = item.get("url") or ""
            if not link.startswith(("http://", "https://")):
                continue
            link = canonical_url(link)
            seen = _seen_date(item.get("seendate", ""))
            if _in_window(seen, since, until):
                found.setdefault(link, PageIn(link, (item.get("title") or "").strip(), seen))
    return list(found.values())


def _gdelt_articles(content: bytes) -> list[dict]:
    """Return the "articles" of an ArtList JSON answer (GDELT answers {} when none match)."""
    text = content.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text) if text else {}
    except json.JSONDecodeError:
        # GDELT explains a bad query in plain text, with status 200.
        first = text.splitlines()[0][:200] if text else ""
        raise FeedError(f"GDELT: not a JSON article list ({first})") from None
    articles = data.get("articles", []) if isinstance(data, dict) else []
    return [a for a in articles if isinstance(a, dict)]


def read_url_file(path: Path) -> list[PageIn]:
    """Return the URLs of a list file: one http(s) URL a line; blank lines and # comments
    skipped. InputError names the first bad line."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read ({exc})") from None
    pages: dict[str, PageIn] = {}
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith(("http://", "https://")) or " " in line:
            raise InputError(f"{path}:{number}: not an http(s) URL ({line[:80]!r})")
        url = canonical_url(line)
        pages.setdefault(url, PageIn(url))
    return list(pages.values())
