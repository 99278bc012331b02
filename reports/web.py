"""The web app's Jinja2 environment: the digest's labels and views, autoescape always on."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from reports.render import COUNTRIES, TYPE_LABELS, incident_view, one_line, safe_href

__all__ = ["STATIC", "incident_page_view", "static_file", "web_environment"]

STATIC = {"basewatch.css": "text/css; charset=utf-8", "favicon.svg": "image/svg+xml"}


@cache
def web_environment() -> Environment:
    """Return the environment for templates/web/ (autoescape on for every template)."""
    env = Environment(
        loader=PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(one_line=one_line, safe_href=safe_href)
    env.globals.update(COUNTRIES=COUNTRIES, TYPE_LABELS=TYPE_LABELS)
    return env


@cache
def static_file(name: str) -> tuple[bytes, str]:
    """Return a file of reports/static/ and its media type (served locally; no CDN)."""
    if name not in STATIC:
        raise KeyError(name)
    return resources.files("reports").joinpath("static", name).read_bytes(), STATIC[name]


def _figures(event: dict[str, Any]) -> dict[str, Any]:
    view = incident_view({**event, "sources": []})
    return {k: view[k] for k in ("when", "type", "munitions", "outcome", "killed", "wounded")}


def incident_page_view(data: dict[str, Any], reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Return what the incident page shows: the summary, the spread and each source's report.

    ``reports`` are (event E, source) dicts: {"event": E, "url", "title", "published"}.
    """
    view = incident_view(data)
    view["id"] = data["id"]
    view["recent"] = data["recent"]
    view["perpetrator_status"] = data["perpetrator"]["status"]
    view["reports"] = [
        {
            "title": one_line(r["title"]) or one_line(r["url"]),
            "url": one_line(r["url"]),
            "href": safe_href(r["url"]),
            "published": r["published"][:16].replace("T", " "),
            "figures": _figures(r["event"]),
            "recent": r["event"]["recent"],
            "evidence": [one_line(s) for s in r["event"]["evidence"]],
        }
        for r in reports
    ]
    return view
