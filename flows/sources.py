"""The sources file: which feeds (and local seed folders or feed files) to ingest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from extract.errors import ConfigError

__all__ = ["BackfillPlan", "Source", "load_sources"]


def _http(value: str | None, what: str) -> str | None:
    if value and not value.startswith(("http://", "https://")):
        raise ValueError(f"{what} must be http(s), got {value!r}")
    return value


class _BackfillEntry(BaseModel):
    """Where `basewatch backfill` finds a source's past articles."""

    model_config = ConfigDict(extra="forbid")
    paged: bool | str = False  # true: the feed url with ?paged=N; or another feed URL to page
    sitemap: str | None = None  # a sitemap or sitemap index URL
    gdelt: str | None = Field(default=None, min_length=1)  # a GDELT DOC 2.0 query

    @model_validator(mode="after")
    def _http_urls(self) -> _BackfillEntry:
        _http(self.paged if isinstance(self.paged, str) else None, "backfill.paged")
        _http(self.sitemap, "backfill.sitemap")
        if not (self.paged or self.sitemap or self.gdelt):
            raise ValueError("give at least one of paged, sitemap or gdelt")
        return self


class _SourceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    url: str | None = None
    path: str | None = None
    enabled: bool = True
    tags: list[str] = []
    backfill: _BackfillEntry | None = None

    @model_validator(mode="after")
    def _one_location(self) -> _SourceEntry:
        if self.url and self.path:
            raise ValueError("give exactly one of url (a feed) or path (a seed folder/feed file)")
        if not (self.url or self.path or self.backfill):
            raise ValueError(
                "give url (a feed), path (a seed folder/feed file) or backfill (history only)"
            )
        _http(self.url, "url")
        if self.backfill and self.backfill.paged is True and not self.url:
            raise ValueError("backfill.paged: true pages the feed url; give url or a feed URL")
        return self


class _SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feeds: list[_SourceEntry]


@dataclass(frozen=True)
class BackfillPlan:
    """Where a source's past articles are listed: a paged feed, a sitemap, a GDELT query."""

    paged_feed: str | None = None
    sitemap: str | None = None
    gdelt_query: str | None = None


@dataclass(frozen=True)
class Source:
    """A configured source: a remote feed (url), a local seed folder / feed file (path), or
    history only (a backfill plan and nothing to poll)."""

    name: str
    location: str
    kind: str  # "feed" | "seed_dir" | "feed_file" | "history"
    tags: tuple[str, ...] = ()
    backfill: BackfillPlan | None = None

    @property
    def is_local(self) -> bool:
        """Return True for sources read from disk."""
        return self.kind in ("seed_dir", "feed_file")

    @property
    def polled(self) -> bool:
        """Return True for sources the ingest flow polls (all but history-only ones)."""
        return self.kind != "history"


def load_sources(path: Path) -> list[Source]:
    """Return the enabled sources of a YAML sources file; ConfigError names what is wrong."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"sources file {str(path)!r} not found (give --sources or BASEWATCH_SOURCES)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"sources file {str(path)!r}: cannot read ({exc})") from None
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where else ""
        raise ConfigError(f"sources file {str(path)!r}: invalid YAML{line}") from None
    try:
        parsed = _SourcesFile.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        raise ConfigError(f"sources file {str(path)!r}: {where}: {error['msg']}") from None
    names = [entry.name for entry in parsed.feeds]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"sources file {str(path)!r}: duplicate name {duplicates[0]!r}")
    sources = []
    for entry in parsed.feeds:
        if not entry.enabled:
            continue
        plan = _plan(entry)
        if entry.url:
            sources.append(Source(entry.name, entry.url, "feed", tuple(entry.tags), plan))
        elif entry.path:
            # Paths are relative to the sources file, so the bundled sample works from anywhere.
            location = (path.parent / entry.path).resolve()
            kind = "seed_dir" if location.is_dir() else "feed_file"
            sources.append(Source(entry.name, str(location), kind, tuple(entry.tags), plan))
        else:
            sources.append(Source(entry.name, "", "history", tuple(entry.tags), plan))
    return sources


def _plan(entry: _SourceEntry) -> BackfillPlan | None:
    if entry.backfill is None:
        return None
    paged = entry.backfill.paged
    return BackfillPlan(
        paged_feed=entry.url if paged is True else (paged or None),
        sitemap=entry.backfill.sitemap,
        gdelt_query=entry.backfill.gdelt,
    )
