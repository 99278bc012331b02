"""HTML page -> article text and metadata (trafilatura; no I/O)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

__all__ = ["PageText", "extract_page"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PageText:
    """The main text of a page and what its metadata says."""

    text: str
    title: str | None
    date: date | None


def extract_page(html: str | bytes, url: str | None = None) -> PageText | None:
    """Return the page's main text, title and publication date; None if there is no text."""
    import trafilatura  # imported here: it costs ~0.5 s and plain-text paths never need it

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
    )
    if document is None or not (document.text or "").strip():
        return None
    published = None
    if document.date:
        try:
            published = date.fromisoformat(str(document.date)[:10])
        except ValueError:
            logger.debug("unreadable page date %r at %s", document.date, url)
    title = (document.title or "").strip() or None
    # trafilatura puts one paragraph per line; basewatch text keeps paragraphs apart by a blank line.
    text = "\n\n".join(line.strip() for line in document.text.splitlines() if line.strip())
    if title and not text.startswith(title):
        text = f"{title}\n\n{text}"
    return PageText(text=text, title=title, date=published)
