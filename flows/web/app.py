"""The web app: incidents (list, page, CSV, GeoJSON), the digest archive, and subscribers'
pages (subscribe, preferences and one-click unsubscribe via signed links)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from extract.gazetteer import Gazetteer, default_gazetteer
from extract.model import ATTACK_TYPES
from flows.settings import Settings
from flows.store import Store, open_store
from flows.web.filters import PAGE_SIZE, parse_list_query
from flows.web.security import Csrf, SecurityMiddleware
from reports.export import incidents_csv, incidents_geojson
from reports.render import COUNTRIES, TYPE_LABELS, incident_view, one_line
from reports.web import incident_page_view, stylesheet, web_environment

__all__ = ["create_app"]

logger = logging.getLogger(__name__)
# The stored digest is our own escaped HTML, shown in a sandboxed frame all the same: no
# script, no form, no request anywhere (its styles are inline, as mail clients need).
DIGEST_FRAME_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'; sandbox"
    ),
    "x-frame-options": "SAMEORIGIN",
}
ERROR_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    415: "Unsupported form",
    500: "Something went wrong",
}


class WebApp:
    """The routes, over one store and the settings they need."""

    def __init__(self, settings: Settings, store: Store, gazetteer: Gazetteer, secret: bytes):
        self.settings = settings
        self.store = store
        self.gazetteer = gazetteer
        self.csrf = Csrf(secret)
        self.env = web_environment()
        sites = sorted(gazetteer, key=lambda s: (s.country, s.name))
        self.choices = {
            "countries": [
                (code, COUNTRIES.get(code, code)) for code in sorted({s.country for s in sites})
            ],
            "sites": [(s.id, f"{s.name} ({s.country})") for s in sites],
            "types": [(t, TYPE_LABELS.get(t, t)) for t in ATTACK_TYPES],
        }

    # -- helpers --------------------------------------------------------------------------------

    def page(self, request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        """Return a rendered page of templates/web/ (every value escaped by autoescape)."""
        cookie = request.scope.get("state", {}).get("csrf_cookie", "")
        html = self.env.get_template(f"web/{name}").render(
            path=request.url.path,
            csrf_token=self.csrf.form_token(cookie) if cookie else "",
            choices=self.choices,
            **context,
        )
        return HTMLResponse(html, status_code=status)

    # -- incidents ------------------------------------------------------------------------------

    def home(self, request: Request) -> Response:
        return RedirectResponse("/incidents", status_code=302)

    def incidents(self, request: Request) -> Response:
        query = parse_list_query(request.query_params, self.gazetteer)
        found, total = self.store.find_incidents(
            query.filter, offset=(query.page - 1) * PAGE_SIZE, limit=PAGE_SIZE
        )
        pages = max(1, -(-total // PAGE_SIZE))
        rows = []
        for incident in found:
            data = incident.to_dict()
            view = incident_view(data)
            view.update(id=data["id"], recent=data["recent"])
            rows.append(view)
        return self.page(
            request,
            "incidents.html.j2",
            rows=rows,
            total=total,
            page=query.page,
            pages=pages,
            query=query,
            values=query.values,
        )

    def _export(self, request: Request) -> list[dict[str, Any]]:
        query = parse_list_query(request.query_params, self.gazetteer)
        found, _ = self.store.find_incidents(query.filter)
        return [i.to_dict() for i in sorted(found, key=lambda i: (i.summary.date_start, i.id))]

    def incidents_csv(self, request: Request) -> Response:
        return Response(
            incidents_csv(self._export(request)),
            media_type="text/csv; charset=utf-8",
            headers={"content-disposition": 'attachment; filename="basewatch-incidents.csv"'},
        )

    def incidents_geojson(self, request: Request) -> Response:
        body = json.dumps(incidents_geojson(self._export(request)), indent=2, ensure_ascii=False)
        return Response(
            body,
            media_type="application/geo+json",
            headers={"content-disposition": 'attachment; filename="basewatch-incidents.geojson"'},
        )

    def incident(self, request: Request) -> Response:
        incident = self.store.incident(request.path_params["incident_id"])
        if incident is None:
            raise HTTPException(404, "no such incident")
        reports = [
            {
                "event": r.event.to_dict(),
                "url": r.source.url,
                "title": r.source.title,
                "published": r.source.published.isoformat(),
            }
            for r in sorted(incident.reports, key=lambda r: r.source.published)
        ]
        return self.page(
            request, "incident.html.j2", i=incident_page_view(incident.to_dict(), reports)
        )

    # -- digests --------------------------------------------------------------------------------

    def digests(self, request: Request) -> Response:
        return self.page(request, "digests.html.j2", digests=self.store.digest_list())

    def _digest(self, request: Request) -> Any:
        row = self.store.digest(request.path_params["digest_id"])
        if row is None:
            raise HTTPException(404, "no such digest")
        return row

    def digest(self, request: Request) -> Response:
        row = self._digest(request)
        return self.page(
            request,
            "digest.html.j2",
            digest={"id": row.id, "subject": one_line(row.subject), "created": row.created},
            text=row.text,
        )

    def digest_email(self, request: Request) -> Response:
        row = self._digest(request)
        return HTMLResponse(row.html, headers=DIGEST_FRAME_HEADERS)

    def css(self, request: Request) -> Response:
        return Response(
            stylesheet(),
            media_type="text/css; charset=utf-8",
            headers={"cache-control": "public, max-age=3600"},
        )

    # -- errors ---------------------------------------------------------------------------------

    def http_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        message = exc.detail if exc.detail and status != 500 else ERROR_TITLES.get(status, "")
        if status == 404 and exc.detail == "Not Found":
            message = f"there is no page at {request.url.path}"
        response = self.page(
            request,
            "error.html.j2",
            status=status,
            title=ERROR_TITLES.get(status, f"Error {status}"),
            message=one_line(str(message)),
            code=status,
        )
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    def server_error(self, request: Request, exc: Exception) -> Response:
        logger.error("%s %s: %s: %s", request.method, request.url.path, type(exc).__name__, exc)
        logger.debug("traceback", exc_info=exc)
        return self.page(
            request,
            "error.html.j2",
            status=500,
            title=ERROR_TITLES[500],
            message="the server could not show this page; the error has been logged",
            code=500,
        )

    def guarded(self, handler: Callable[[Request], Response]) -> Callable[[Request], Response]:
        """Return the handler with an unexpected error turned into the 500 page and one log line.

        (Starlette's own 500 handler re-raises, and the server then logs a traceback.)
        A plain function: Starlette runs it in its thread pool, so store queries never block
        the event loop.
        """

        def endpoint(request: Request) -> Response:
            try:
                return handler(request)
            except HTTPException:
                raise
            except Exception as exc:  # noqa: BLE001 - shown as the 500 page, logged once
                return self.server_error(request, exc)

        return endpoint

    def routes(self) -> list[Route]:
        """Return the app's routes."""
        pages = [
            ("/", self.home),
            ("/incidents", self.incidents),
            ("/incidents.csv", self.incidents_csv),
            ("/incidents.geojson", self.incidents_geojson),
            ("/incidents/{incident_id:int}", self.incident),
            ("/digests", self.digests),
            ("/digests/{digest_id:int}", self.digest),
            ("/digests/{digest_id:int}/email", self.digest_email),
            ("/static/basewatch.css", self.css),
        ]
        return [Route(path, self.guarded(handler)) for path, handler in pages]


def create_app(settings: Settings, secret: bytes, store: Store | None = None) -> Starlette:
    """Return the ASGI app over the settings' store (opened and migrated here if not given)."""
    gazetteer = default_gazetteer()
    store = store or open_store(settings.resolved_database_url, gazetteer)
    web = WebApp(settings, store, gazetteer, secret)
    return Starlette(
        routes=web.routes(),
        middleware=[Middleware(SecurityMiddleware)],
        exception_handlers={HTTPException: web.http_error, Exception: web.server_error},
    )
