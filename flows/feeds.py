"""Feed bytes -> entries (feedparser), and the local seed directory -> entries."""

from __future__ import annotations

import calendar
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from extract.errors import FeedError, InputError
from flows.fetch import canonical_url
from reports.render import one_line

__all__ = ["FeedEntry", "parse_feed", "read_seed_dir"]

# An entry whose feed content is at least this long is a full article (no page fetch needed).
FULL_CONTENT_CHARS = 600


@dataclass(frozen=True)
class FeedEntry:
    """One item of a feed (or one seed file): where the article is and what the feed says."""

    guid: str
    link: str
    title: str
    published: datetime | None
    content: str | None = None  # full text or HTML carried by the feed itself
    content_is_html: bool = True
    fetch_page: bool = True  # False for seed files and local feed files: never fetched
    from_sidecar: bool = False


def _entry_time(entry: feedparser.FeedParserDict) -> datetime | None:
    """Return the entry's publication time in the feed's own offset (DOMAIN.md: keep the
    article's timezone); feedparser's parsed tuple, which is UTC, only as a fallback."""
    for key in ("published", "updated"):
        raw = entry.get(key)
        if not raw:
            continue
        try:
            parsed = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            try:
                parsed = datetime.fromisoformat(raw.strip())
            except ValueError:
                continue
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    parsed_tuple = entry.get("published_parsed") or entry.get("updated_parsed")
    if not parsed_tuple:
        return None
    return datetime.fromtimestamp(calendar.timegm(parsed_tuple), tz=UTC)


def parse_feed(content: bytes, name: str, fetch_pages: bool = True) -> list[FeedEntry]:
    """Return the feed's entries, de-duplicated by GUID and canonical link; FeedError if invalid.

    ``fetch_pages`` False (a local feed file) keeps links for citation but never fetches them.
    """
    parsed = feedparser.parse(content)
    if parsed.bozo and not parsed.entries:
        reason = getattr(parsed, "bozo_exception", None)
        raise FeedError(f"feed {name!r}: not a valid RSS/Atom feed ({reason})")
    if not parsed.version and not parsed.entries:
        raise FeedError(f"feed {name!r}: not a valid RSS/Atom feed (no feed elements)")
    entries: list[FeedEntry] = []
    seen: set[str] = set()
    for item in parsed.entries:
        link = item.get("link") or ""
        if not link:
            continue
        canonical = canonical_url(link)
        guid = item.get("id") or canonical
        if guid in seen or canonical in seen:
            continue
        seen.update({guid, canonical})
        content = None
        for block in item.get("content") or []:
            if len(block.get("value", "")) >= FULL_CONTENT_CHARS:
                content = block["value"]
                break
        entries.append(
            FeedEntry(
                guid=guid,
                link=canonical,
                title=one_line(item.get("title", "")),
                published=_entry_time(item),
                content=content,
                fetch_page=fetch_pages,
            )
        )
    return entries


class Sidecar(BaseModel):
    """A seed article's metadata file (untrusted input)."""

    model_config = ConfigDict(extra="allow")
    url: str
    title: str
    published: datetime
    source: str | None = None
    published_estimated: bool = False


def read_seed_dir(path: Path) -> list[FeedEntry]:
    """Return the seed directory's articles (.txt/.html with a .yaml sidecar) as entries."""
    if not path.is_dir():
        raise InputError(f"seed directory {str(path)!r} does not exist")
    entries = []
    for article in sorted(path.iterdir()):
        if article.suffix not in (".txt", ".html"):
            continue
        sidecar = article.with_suffix(".yaml")
        if not sidecar.exists():
            raise InputError(f"{article}: no sidecar {sidecar.name} (url, title, published)")
        try:
            meta = Sidecar.model_validate(yaml.safe_load(sidecar.read_text(encoding="utf-8")))
            body = article.read_text(encoding="utf-8")
        except (ValidationError, yaml.YAMLError, UnicodeDecodeError) as exc:
            raise InputError(f"{sidecar}: invalid sidecar ({str(exc).splitlines()[0]})") from exc
        published = meta.published
        if published.tzinfo is None:
            published = published.replace(tzinfo=UTC)
        link = canonical_url(meta.url)
        digest = hashlib.sha256(link.encode()).hexdigest()[:16]
        entries.append(
            FeedEntry(
                guid=f"seed:{digest}",
                link=link,
                title=one_line(meta.title),
                published=published,
                content=body,
                content_is_html=article.suffix == ".html",
                fetch_page=False,
                from_sidecar=True,
            )
        )
    return entries
