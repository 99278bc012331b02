"""The incident list's filters from a query string: checked values, or a 400 that says why."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from starlette.datastructures import QueryParams
from starlette.exceptions import HTTPException

from extract.gazetteer import Gazetteer
from extract.model import ATTACK_TYPES
from flows.store import IncidentFilter
from reports.render import one_line

__all__ = ["PAGE_SIZE", "ListQuery", "parse_list_query"]

PAGE_SIZE = 25
MAX_PAGE = 100_000
SCOPES = ("recent", "all")


@dataclass(frozen=True)
class ListQuery:
    """The incident list's filter, page, and the query values as given (for links and forms)."""

    filter: IncidentFilter
    page: int
    values: dict[str, str]

    def link(self, **changes: str | int) -> str:
        """Return the query string of this list with some values changed ('' drops one)."""
        values = {**self.values, **{k: str(v) for k, v in changes.items()}}
        return urlencode({k: v for k, v in values.items() if v})


def _bad(name: str, message: str, value: str) -> HTTPException:
    shown = one_line(value)[:60]
    return HTTPException(400, f"{name}: {message} ({shown!r})")


def _date(params: QueryParams, name: str) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(name, "not a date, expected YYYY-MM-DD", value) from None


def parse_list_query(params: QueryParams, gazetteer: Gazetteer) -> ListQuery:
    """Return the list query in ``params``; raise HTTPException(400) naming a bad value.

    An empty value is no filter (a form's "any" option sends one).
    """
    country = params.get("country", "").strip().upper()
    countries = sorted({s.country for s in gazetteer})
    if country and country not in countries:
        raise _bad(
            "country", f"unknown country code, expected one of {', '.join(countries)}", country
        )
    site = params.get("site", "").strip()
    if site and gazetteer.get(site) is None:
        raise _bad("site", "no site with this id (see basewatch sites)", site)
    attack_type = params.get("type", "").strip()
    if attack_type and attack_type not in ATTACK_TYPES:
        raise _bad(
            "type", f"unknown attack type, expected one of {', '.join(ATTACK_TYPES)}", attack_type
        )
    since, until = _date(params, "since"), _date(params, "until")
    if since and until and since > until:
        raise HTTPException(400, f"since {since} is after until {until}")
    scope = params.get("scope", "").strip() or "recent"
    if scope not in SCOPES:
        raise _bad("scope", "expected recent or all", scope)
    raw_page = params.get("page", "").strip() or "1"
    if not raw_page.isdigit() or not 1 <= int(raw_page) <= MAX_PAGE:
        raise _bad("page", "expected a page number from 1", raw_page)
    values = {
        "country": country,
        "site": site,
        "type": attack_type,
        "since": since.isoformat() if since else "",
        "until": until.isoformat() if until else "",
        "scope": "" if scope == "recent" else scope,
    }
    query = IncidentFilter(
        country=country or None,
        site_id=site or None,
        attack_type=attack_type or None,
        since=since,
        until=until,
        include_recalled=scope == "all",
    )
    return ListQuery(query, int(raw_page), values)
