"""Render a digest as plain text and HTML with Jinja2 (autoescape on for HTML)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from extract.digest import Digest, DigestItem

__all__ = [
    "CHART_CID",
    "COUNTRIES",
    "OUTCOME_LABELS",
    "TYPE_LABELS",
    "RenderedDigest",
    "alert_subject",
    "digest_subject",
    "incident_view",
    "inline_css",
    "one_line",
    "render_confirmation",
    "render_digest",
    "render_source_alert",
    "safe_href",
]

# The Content-ID of the chart image in a digest's HTML (src="cid:...").
CHART_CID = "chart@basewatch"

COUNTRIES = {
    "IQ": "Iraq", "SY": "Syria", "JO": "Jordan", "KW": "Kuwait", "QA": "Qatar",
    "AE": "United Arab Emirates", "SA": "Saudi Arabia", "BH": "Bahrain", "OM": "Oman",
    "LB": "Lebanon", "TR": "Turkey", "IL": "Israel", "YE": "Yemen",
}  # fmt: skip
TYPE_LABELS = {
    "rocket": "Rocket attack", "mortar": "Mortar attack", "drone": "Drone attack",
    "ballistic_missile": "Ballistic missile attack", "cruise_missile": "Cruise missile attack",
    "ied": "IED attack", "small_arms": "Small-arms attack", "mixed": "Combined attack",
    "unknown": "Attack (weapon not reported)",
}  # fmt: skip
OUTCOME_LABELS = {
    "impact": "hit", "intercepted": "intercepted", "fell_short": "fell short",
    "unknown": "outcome not reported",
}  # fmt: skip


@dataclass(frozen=True)
class RenderedDigest:
    """A digest ready to send: subject, plain text and HTML."""

    subject: str
    text: str
    html: str


def safe_href(url: str) -> str | None:
    """Return the URL if it is http(s), else None (no javascript:, data: or other links)."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return url.strip() if scheme in ("http", "https") else None


def one_line(text: str | None) -> str:
    """Return text on one line (CR/LF and control characters become spaces)."""
    return " ".join("".join(c if c.isprintable() else " " for c in (text or "")).split())


def _day(value: str) -> str:
    return date.fromisoformat(value).strftime("%-d %b %Y")


def _when(data: dict[str, Any]) -> str:
    start, end, precision = data["date_start"], data["date_end"], data["date_precision"]
    if precision == "month":
        return date.fromisoformat(start).strftime("%B %Y")
    if precision == "range" and start != end:
        return f"between {_day(start)} and {_day(end)}"
    return _day(start)


def _casualties(figure: dict[str, int | None]) -> str:
    total, us = figure["total"], figure["us"]
    if total is None and us is None:
        return "not reported"
    if total is None:
        return f"{us} US (total not reported)"
    if us is None:
        return str(total)
    return f"{total} ({us} US)"


def _munitions(figure: dict[str, int | None]) -> str | None:
    low, high = figure["min"], figure["max"]
    if low is None and high is None:
        return None
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"up to {high}"
    return str(low) if low == high else f"{low}–{high}"


def _munitions_label(count: str | None) -> str | None:
    """Return "1 munition", "2–3 munitions", "at least 16 munitions" (None if unreported)."""
    if count is None:
        return None
    return f"{count} munition" + ("" if count == "1" else "s")


def _perpetrator(data: dict[str, Any]) -> str:
    name, status = data["perpetrator"]["name"], data["perpetrator"]["status"]
    if status == "unknown" or not name:
        return "not known"
    return f"{name} ({status})"


def _short_killed(figure: dict[str, int | None]) -> str:
    total, us = figure["total"], figure["us"]
    if total is None:
        return "?" if us is None else f"{us} US"
    return str(total) if not us else f"{total} ({us} US)"


def incident_view(data: dict[str, Any]) -> dict[str, Any]:
    """Return an incident (the JSON contract) as the labelled, one-line strings pages show."""
    site = data["site"]
    return {
        "when": _when(data),
        "site": one_line(site["name"] if site else data["location_text"]) or "unnamed site",
        "country": COUNTRIES.get(site["country"], site["country"]) if site else "",
        "type": TYPE_LABELS.get(data["attack_type"], data["attack_type"]),
        "munitions": _munitions(data["munitions"]),
        "outcome": OUTCOME_LABELS.get(data["outcome"], data["outcome"]),
        "killed": _casualties(data["killed"]),
        "wounded": _casualties(data["wounded"]),
        "perpetrator": _perpetrator(data),
        "spread": data.get("spread", {}),
        "sources": [
            {
                "title": one_line(s["title"]) or s["url"],
                "url": one_line(s["url"]),
                "href": safe_href(s["url"]),
                "published": _day(s["published"][:10]),
            }
            for s in data["sources"]
        ],
    }


def _view(item: DigestItem) -> dict[str, Any]:
    data = item.incident.to_dict()
    view = incident_view(data)
    view.update(
        kind=item.kind,
        changes=[one_line(c) for c in item.changes],
        # The mail's at-a-glance table and its munitions wording.
        short_when=date.fromisoformat(data["date_start"]).strftime("%-d %b"),
        short_type=one_line(data["attack_type"]).replace("_", " "),
        killed_short=_short_killed(data["killed"]),
        munitions_label=_munitions_label(view["munitions"]),
    )
    return view


def _what(digest: Digest) -> str:
    parts = []
    if digest.new:
        parts.append(f"{len(digest.new)} new attack{'s' if len(digest.new) != 1 else ''}")
    if digest.updated:
        parts.append(f"{len(digest.updated)} updated")
    return ", ".join(parts) or "no new attacks"


def digest_subject(digest: Digest) -> str:
    """Return a subject that says what is inside: "2 new attacks, 1 updated — 14 Jun 2020"."""
    return f"basewatch: {_what(digest)} — {digest.created.strftime('%-d %b %Y')}"


def alert_subject(digest: Digest) -> str:
    """Return an alert's subject: the attack itself when there is one, else the count.

    "basewatch alert: Drone attack on Tower 22, Jordan — 28 Jan 2024".
    """
    if len(digest.new) == 1:
        view = _view(digest.new[0])
        where = view["site"] + (f", {view['country']}" if view["country"] else "")
        return one_line(f"basewatch alert: {view['type']} on {where} — {view['when']}")
    return f"basewatch alert: {_what(digest)} — {digest.created.strftime('%-d %b %Y')}"


def inline_css(html: str) -> str:
    """Return the HTML with its <style> rules copied into style attributes (mail clients drop
    <style>); the block is kept for the clients that honour its media queries."""
    import css_inline

    inliner = css_inline.CSSInliner(keep_style_tags=True, load_remote_stylesheets=False)
    return inliner.inline(html)


_ENV = Environment(
    loader=PackageLoader("reports", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


def render_digest(
    digest: Digest,
    digest_id: int | None = None,
    *,
    kind: str = "digest",
    links: dict[str, str] | None = None,
    chart: bool = False,
    html: bool = True,
) -> RenderedDigest:
    """Return the digest (or, with kind="alert", the alert) as subject, text and HTML.

    ``links`` holds a subscriber's signed "unsubscribe" and "preferences" URLs (the archive
    edition has none); ``chart`` puts the chart image (Content-ID CHART_CID) in the HTML.
    With ``html=False`` (a subscriber who reads plain text) the HTML is left empty.
    """
    subject = alert_subject(digest) if kind == "alert" else digest_subject(digest)
    new = [_view(i) for i in digest.new]
    updated = [_view(i) for i in digest.updated]
    safe_links = None
    if links:
        safe_links = {name: one_line(url) for name, url in links.items() if safe_href(url)}
    context = {
        "kind": kind,
        "subject": subject,
        "headline": subject.removeprefix("basewatch alert: ").removeprefix("basewatch: "),
        "preheader": "; ".join(f"{i['type']} on {i['site']}, {i['short_when']}" for i in new[:3])
        or "; ".join(f"Update: {i['site']}" for i in updated[:3]),
        "digest_id": digest_id,
        "created": digest.created.strftime("%-d %b %Y %H:%M %Z").strip(),
        "new": new,
        "updated": updated,
        "links": safe_links,
        "chart": CHART_CID if chart else None,
    }
    return RenderedDigest(
        subject=subject,
        text=_ENV.get_template("digest.txt.j2").render(context),
        html=inline_css(_ENV.get_template("digest.html.j2").render(context)) if html else "",
    )


def render_source_alert(
    kind: str, source: str, error: str | None, since: datetime | None
) -> RenderedDigest:
    """Return the ops mail saying a source has been failing ("alert") or works again."""
    name = one_line(source)
    when = since.strftime("%-d %b %Y %H:%M UTC") if since else "an unknown time"
    if kind == "alert":
        subject = f"basewatch: source {name} failing since {when}"
    else:
        subject = f"basewatch: source {name} works again"
    context = {
        "kind": kind,
        "source": name,
        "error": one_line(error),
        "since": when,
        "subject": subject,
    }
    return RenderedDigest(
        subject=subject,
        text=_ENV.get_template("source_alert.txt.j2").render(context),
        html=_ENV.get_template("source_alert.html.j2").render(context),
    )


CONFIRM_SUBJECT = "Confirm your basewatch subscription"


def render_confirmation(
    email: str, link: str, *, subscribed: bool, valid_hours: float
) -> RenderedDigest:
    """Return the mail sent to an address someone entered on the subscribe form.

    A new address gets ``link`` to the confirm page; one already ``subscribed`` gets ``link``
    to its preferences page instead (nothing is confirmed again). ``link`` must be http(s).
    """
    href = safe_href(link)
    if href is None:
        raise ValueError(f"not an http(s) link: {link!r}")
    hours = round(valid_hours)
    context = {
        "subject": CONFIRM_SUBJECT,
        "email": one_line(email),
        "link": one_line(href),
        "subscribed": subscribed,
        "valid_for": f"{hours} hour{'s' if hours != 1 else ''}",
    }
    return RenderedDigest(
        subject=CONFIRM_SUBJECT,
        text=_ENV.get_template("confirm.txt.j2").render(context),
        html=_ENV.get_template("confirm.html.j2").render(context),
    )
