"""The web app: incidents (list, page, CSV, GeoJSON), the digest archive, and subscribers'
pages (subscribe with a confirmation mail, preferences and one-click unsubscribe via signed
links)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Any
from urllib.parse import urlencode
from zoneinfo import available_timezones

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from extract.errors import ConfigError, DeliveryError, InputError, NotSubscribedError, TokenError
from extract.gazetteer import Gazetteer, default_gazetteer
from extract.model import ATTACK_TYPES
from extract.preferences import CADENCES, FORMATS, SEVERITIES, Preferences, make_preferences
from flows.mail import mail_sender
from flows.settings import Settings
from flows.store import Store, open_store
from flows.tokens import LINK_PATHS, read_payload, read_token, sign_payload, sign_token
from flows.web.filters import PAGE_SIZE, parse_list_query
from flows.web.security import (
    Csrf,
    RateLimiter,
    SecurityMiddleware,
    form_value,
    read_form,
    safe_next,
)
from reports.deliver import build_message, validate_email
from reports.export import incidents_csv, incidents_geojson
from reports.render import (
    COUNTRIES,
    TYPE_LABELS,
    incident_view,
    one_line,
    render_confirmation,
)
from reports.web import incident_page_view, static_file, web_environment

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
# Pages reached through a signed link: never cached, never kept in a shared cache.
NO_STORE = {"cache-control": "no-store"}
# Double opt-in: the confirm link in the mail works this long, and an address gets at most
# one confirmation mail per interval (per process: see RateLimiter).
CONFIRM_MAX_AGE = 48 * 3600.0
CONFIRM_INTERVAL = 10 * 60.0
SEVERITY_LABELS = {
    "any": "Every attack",
    "casualties": "Only attacks with reported casualties",
    "us_casualties": "Only attacks with reported US casualties",
}
CADENCE_LABELS = {
    "immediate": "An alert per new attack, and a daily digest",
    "daily": "A daily digest",
    "weekly": "A weekly digest",
}
FORMAT_LABELS = {"html": "HTML", "text": "Plain text"}
ERROR_TITLES = {
    400: "Bad request",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    413: "Too large",
    415: "Unsupported form",
    500: "Something went wrong",
    503: "Please try again later",
}


class WebApp:
    """The routes, over one store and the settings they need."""

    def __init__(self, settings: Settings, store: Store, gazetteer: Gazetteer) -> None:
        self.settings = settings
        self.store = store
        self.gazetteer = gazetteer
        self.secret = settings.resolved_secret_key
        self.csrf = Csrf(self.secret.encode())
        self.confirm_limiter = RateLimiter(CONFIRM_INTERVAL)
        self.env = web_environment()
        sites = sorted(gazetteer, key=lambda s: (s.country, s.name))
        self.choices = {
            "countries": [
                (code, COUNTRIES.get(code, code)) for code in sorted({s.country for s in sites})
            ],
            "sites": [(s.id, f"{s.name} ({s.country})") for s in sites],
            "types": [(t, TYPE_LABELS.get(t, t)) for t in ATTACK_TYPES],
            "severities": [(v, SEVERITY_LABELS.get(v, v)) for v in SEVERITIES],
            "cadences": [(v, CADENCE_LABELS.get(v, v)) for v in CADENCES],
            "formats": [(v, FORMAT_LABELS.get(v, v)) for v in FORMATS],
            "timezones": _timezones(),
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

    def static(self, request: Request) -> Response:
        try:
            body, media_type = static_file(request.path_params["name"])
        except KeyError:
            raise HTTPException(404, "no such file") from None
        return Response(
            body, media_type=media_type, headers={"cache-control": "public, max-age=3600"}
        )

    # -- subscribers ----------------------------------------------------------------------------

    def _email_from(self, token: str, purpose: str) -> str:
        """Return the address a signed link was made for; 400 saying why if it is not valid."""
        if not token:
            raise HTTPException(400, f"this page needs the {purpose} link from a digest email")
        try:
            return read_token(token, purpose, self.secret, self.settings.token_max_age)
        except TokenError as exc:
            raise HTTPException(400, str(exc)) from None

    def _preferences_from(self, form: dict[str, list[str]]) -> Preferences:
        """Return checked preferences from a form; ConfigError with a one-line message."""
        return make_preferences(
            self.gazetteer,
            countries=form.get("countries", []),
            sites=form.get("sites", []),
            attack_types=form.get("attack_types", []),
            min_severity=form_value(form, "min_severity"),
            cadence=form_value(form, "cadence"),
            timezone=form_value(form, "timezone"),
            format=form_value(form, "format"),
        )

    def subscribe_form(self, request: Request) -> Response:
        return self.page(
            request,
            "subscribe.html.j2",
            prefs=Preferences(),
            email="",
            next=safe_next(request.query_params.get("next"), ""),
            error=None,
        )

    async def subscribe(self, request: Request) -> Response:
        form = await read_form(request)
        self.csrf.check(request, form)
        email, back = form_value(form, "email"), safe_next(form_value(form, "next"), "")
        try:
            address = validate_email(email)
            prefs = self._preferences_from(form)
        except (InputError, ConfigError) as exc:
            prefs = Preferences.from_dict(
                {k: form.get(k) for k in ("countries", "sites", "attack_types")}
            )
            return self.page(
                request,
                "subscribe.html.j2",
                status=400,
                prefs=prefs,
                email=email,
                next=back,
                error=str(exc),
            )
        # Double opt-in: nothing is stored; the address gets a mail with a signed link that
        # carries the address and the preferences. The answer is the same whether or not it
        # is subscribed, and whether or not a mail was just sent to it, so it tells nobody
        # anything about the address.
        key = address.lower()
        if self.confirm_limiter.allow(key):
            try:
                await run_in_threadpool(self._send_confirmation, address, prefs)
            except DeliveryError as exc:
                self.confirm_limiter.forget(key)
                logger.warning("subscribe: confirmation mail not sent: %s", one_line(str(exc)))
                raise HTTPException(
                    503, "the confirmation email could not be sent; please try again later"
                ) from None
        else:
            logger.info("subscribe: %s was sent a confirmation mail recently; none sent", address)
        target = "/subscribe/done" + (f"?{urlencode({'next': back})}" if back else "")
        return RedirectResponse(target, status_code=303)

    def _send_confirmation(self, address: str, prefs: Preferences) -> None:
        """Mail the address its confirm link; DeliveryError if the mail cannot be sent.

        An address already subscribed is sent a link to its preferences page instead: a new
        confirmation would change nothing (its preferences stay until it changes them), and
        the mail goes only to the address's owner, who can use that link anyway.
        """
        subscribed = self.store.subscriber_preferences(address) is not None
        base = self.settings.base_url.rstrip("/")
        if subscribed:
            token = sign_token(address, "preferences", self.secret)
            link = f"{base}{LINK_PATHS['preferences']}?{urlencode({'token': token})}"
        else:
            payload = {"email": address, "prefs": prefs.to_dict()}
            token = sign_payload(payload, "confirm", self.secret)
            link = f"{base}{LINK_PATHS['confirm']}?{urlencode({'token': token})}"
        rendered = render_confirmation(
            address, link, subscribed=subscribed, valid_hours=CONFIRM_MAX_AGE / 3600
        )
        message = build_message(rendered, sender=self.settings.mail_from, to=address)
        sender = mail_sender(self.settings)
        try:
            sender.send(message, address, f"confirm-{time.time_ns()}")
        finally:
            sender.close()

    def _confirmation(self, token: str) -> tuple[str, Preferences]:
        """Return the address and preferences a confirm link carries; 400 saying why if not."""
        if not token:
            raise HTTPException(400, "this page needs the confirm link from the email we sent")
        try:
            payload = read_payload(token, "confirm", self.secret, CONFIRM_MAX_AGE)
            address = validate_email(str(payload.get("email", "")))
            prefs = Preferences.from_dict(payload.get("prefs")).validate(self.gazetteer)
        except TokenError as exc:
            raise HTTPException(400, str(exc)) from None
        except (InputError, ConfigError, TypeError, ValueError):
            raise HTTPException(400, "confirm link is not valid") from None
        return address, prefs

    def confirm_form(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        address, _ = self._confirmation(token)
        response = self.page(
            request,
            "confirm.html.j2",
            email=address,
            action=f"/confirm?{urlencode({'token': token})}",
            preferences="",
            done=False,
        )
        response.headers.update(NO_STORE)
        return response

    async def confirm(self, request: Request) -> Response:
        form = await read_form(request)
        self.csrf.check(request, form)
        address, prefs = self._confirmation(request.query_params.get("token", ""))
        # An address subscribed meanwhile keeps its preferences (add_subscriber leaves them).
        await run_in_threadpool(self.store.add_subscriber, address, prefs)
        token = sign_token(address, "preferences", self.secret)
        response = self.page(
            request,
            "confirm.html.j2",
            email=address,
            action="",
            preferences=f"/preferences?{urlencode({'token': token})}",
            done=True,
        )
        response.headers.update(NO_STORE)
        return response

    def subscribe_done(self, request: Request) -> Response:
        return self.page(
            request,
            "subscribed.html.j2",
            back=safe_next(request.query_params.get("next"), "/incidents"),
        )

    def preferences_form(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        email = self._email_from(token, "preferences")
        prefs = self.store.subscriber_preferences(email)
        if prefs is None:
            raise HTTPException(404, f"{email} is not subscribed")
        return self._preferences_page(
            request, email, token, prefs, saved="saved" in request.query_params
        )

    def _preferences_page(
        self,
        request: Request,
        email: str,
        token: str,
        prefs: Preferences,
        *,
        saved: bool = False,
        error: str | None = None,
        back: str = "",
    ) -> HTMLResponse:
        unsubscribe = urlencode({"token": sign_token(email, "unsubscribe", self.secret)})
        response = self.page(
            request,
            "preferences.html.j2",
            status=400 if error else 200,
            email=email,
            token=token,
            prefs=prefs,
            saved=saved,
            error=error,
            next=back,
            unsubscribe=f"/unsubscribe?{unsubscribe}",
        )
        response.headers.update(NO_STORE)
        return response

    async def preferences(self, request: Request) -> Response:
        form = await read_form(request)
        self.csrf.check(request, form)
        token = form_value(form, "token")
        email = self._email_from(token, "preferences")
        back = safe_next(form_value(form, "next"), "")
        try:
            prefs = self._preferences_from(form)
        except ConfigError as exc:
            current = await run_in_threadpool(self.store.subscriber_preferences, email)
            return self._preferences_page(
                request, email, token, current or Preferences(), error=str(exc), back=back
            )
        try:
            await run_in_threadpool(self.store.set_preferences, email, prefs)
        except NotSubscribedError:
            raise HTTPException(404, f"{email} is not subscribed") from None
        target = back or f"/preferences?{urlencode({'token': token, 'saved': '1'})}"
        return RedirectResponse(target, status_code=303)

    def unsubscribe_form(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        email = self._email_from(token, "unsubscribe")
        subscribed = self.store.subscriber_preferences(email) is not None
        response = self.page(
            request,
            "unsubscribe.html.j2",
            email=email,
            action=f"/unsubscribe?{urlencode({'token': token})}",
            subscribed=subscribed,
            done=False,
        )
        response.headers.update(NO_STORE)
        return response

    async def unsubscribe(self, request: Request) -> Response:
        # RFC 8058 one-click: the mail client POSTs "List-Unsubscribe=One-Click" to the signed
        # URL with no cookie and no CSRF token; the signed token alone authorises it. The body
        # is read (bounded) but not needed, whatever its content type.
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > 16_384:
                raise HTTPException(413, "request body too large")
        email = self._email_from(request.query_params.get("token", ""), "unsubscribe")
        removed = await run_in_threadpool(self.store.remove_subscriber, email)
        if removed:
            logger.debug("unsubscribed %s", email)
        response = self.page(
            request, "unsubscribe.html.j2", email=email, action="", subscribed=False, done=True
        )
        response.headers.update(NO_STORE)
        return response

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

    def guarded_async(
        self, handler: Callable[[Request], Awaitable[Response]]
    ) -> Callable[[Request], Awaitable[Response]]:
        """Return the async handler with an unexpected error turned into the 500 page."""

        async def endpoint(request: Request) -> Response:
            try:
                return await handler(request)
            except HTTPException:
                raise
            except Exception as exc:  # noqa: BLE001 - shown as the 500 page, logged once
                return self.server_error(request, exc)

        return endpoint

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
            ("/static/{name}", self.static),
            ("/subscribe", self.subscribe_form),
            ("/subscribe/done", self.subscribe_done),
            ("/confirm", self.confirm_form),
            ("/preferences", self.preferences_form),
            ("/unsubscribe", self.unsubscribe_form),
        ]
        forms = [
            ("/subscribe", self.subscribe),
            ("/confirm", self.confirm),
            ("/preferences", self.preferences),
            ("/unsubscribe", self.unsubscribe),
        ]
        return [
            *(Route(path, self.guarded(handler), methods=["GET"]) for path, handler in pages),
            *(Route(p, self.guarded_async(h), methods=["POST"]) for p, h in forms),
        ]


@cache
def _timezones() -> list[tuple[str, str]]:
    # Every zone the preferences accept, so a stored one is always among the options.
    return [(zone, zone) for zone in sorted(available_timezones())]


def create_app(settings: Settings, store: Store | None = None) -> Starlette:
    """Return the ASGI app over the settings' store (opened and migrated here if not given).

    The secret key (BASEWATCH_SECRET_KEY, else <data_dir>/secret.key) signs the mail links and
    the CSRF tokens; ConfigError if it cannot be read.
    """
    gazetteer = default_gazetteer()
    store = store or open_store(settings.resolved_database_url, gazetteer)
    web = WebApp(settings, store, gazetteer)
    return Starlette(
        routes=web.routes(),
        middleware=[Middleware(SecurityMiddleware)],
        exception_handlers={HTTPException: web.http_error, Exception: web.server_error},
    )
