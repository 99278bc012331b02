"""The sources file: which feeds (and local seed folders or feed files) to ingest."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from extract.errors import ConfigError

__all__ = ["Source", "load_sources"]


class _SourceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    url: str | None = None
    path: str | None = None
    enabled: bool = True
    tags: list[str] = []

    @model_validator(mode="after")
    def _one_location(self) -> _SourceEntry:
        if bool(self.url) == bool(self.path):
            raise ValueError("give exactly one of url (a feed) or path (a seed folder/feed file)")
        if self.url and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"url must be http(s), got {self.url!r}")
        return self


class _SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    feeds: list[_SourceEntry]


@dataclass(frozen=True)
class Source:
    """A configured source: a remote feed (url) or a local seed folder / feed file (path)."""

    name: str
    location: str
    kind: str  # "feed" | "seed_dir" | "feed_file"
    tags: tuple[str, ...] = ()

    @property
    def is_local(self) -> bool:
        """Return True for sources read from disk."""
        return self.kind != "feed"


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
        if entry.url:
            sources.append(Source(entry.name, entry.url, "feed", tuple(entry.tags)))
            continue
        # Paths are relative to the sources file, so the bundled sample works from anywhere.
        location = (path.parent / entry.path).resolve()
        kind = "seed_dir" if location.is_dir() else "feed_file"
        sources.append(Source(entry.name, str(location), kind, tuple(entry.tags)))
    return sources
