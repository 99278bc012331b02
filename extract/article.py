"""HTML page -> article text and metadata (trafilatura; no I/O)."""

from __future__ import annotations

import logging
import re
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


def _table_row(line: str) -> str:
    """Return a table row ("| 18 Oct | Al-Tanf | Drones (2) | ... |") as one sentence of its
    cells, so a tracker's log reads like the text around it; a rule row ("|---|") as nothing."""
    if not (line.startswith("|") and line.count("|") >= 3):
        return line
    cells = [c.strip().rstrip(".;") for c in line.strip("|").split("|")]
    cells = [re.sub(r"(?<=[a-z0-9)\"”])\.\s+(?=[A-Z])", "; ", c) for c in cells if c]
    if not cells or all(set(c) <= set("-: ") for c in cells):
        return ""
    return ", ".join(cells) + "."


def extract_page(html: str | bytes, url: str | None = None) -> PageText | None:
    """Return the page's main text, title and publication date; None if there is no text."""
    import trafilatura  # imported here: it costs ~0.5 s and plain-text paths never need it

    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,  # trackers log attacks in tables
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
    lines = (_table_row(line.strip()) for line in document.text.splitlines())
    text = "\n\n".join(line for line in lines if line)
    if title and not text.startswith(title):
        text = f"{title}\n\n{text}"
    return PageText(text=text, title=title, date=published)
