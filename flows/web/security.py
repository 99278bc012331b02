"""Web app defences: security headers, signed double-submit CSRF tokens, local-only redirects,
a bounded reader for url-encoded form bodies, and a per-key rate limiter."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlsplit

from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "SECURITY_HEADERS",
    "Csrf",
    "RateLimiter",
    "SecurityMiddleware",
    "form_value",
    "read_form",
    "safe_next",
]

CSRF_COOKIE = "basewatch_csrf"
CSRF_FIELD = "csrf_token"
MAX_FORM_BYTES = 16_384
COOKIE_RE = re.compile(r"[A-Za-z0-9_\-]{32,64}")
# No script at all, styles and images from this origin only, forms post only here, and no
# page of ours in another site's frame (the digest viewer relaxes frame-ancestors to 'self').
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
        "frame-src 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "x-content-type-options": "nosniff",
    # Signed links carry their token in the query: never send it on to another site.
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
}


class Csrf:
    """Signed double-submit tokens: a random cookie, and in each form its HMAC under the secret.

    A page on another site can make a browser post a form here, but can neither read our cookie
    nor compute its HMAC without the secret, so its post carries no valid token.
    """

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def form_token(self, cookie: str) -> str:
        """Return the token forms carry for this cookie value."""
        return hmac.new(self._secret, b"csrf|" + cookie.encode(), hashlib.sha256).hexdigest()

    def check(self, request: Request, form: dict[str, list[str]]) -> None:
        """Raise 403 unless the form's token matches the request's CSRF cookie."""
        cookie = request.cookies.get(CSRF_COOKIE, "")
        given = (form.get(CSRF_FIELD) or [""])[0]
        if not cookie or not given or not hmac.compare_digest(self.form_token(cookie), given):
            raise HTTPException(
                403, "this form has expired or was sent from another site: reload it and retry"
            )


def _cookie_value(scope: Scope) -> str | None:
    """Return the request's CSRF cookie if it has one of the shape we issue, else None."""
    for name, value in scope.get("headers", []):
        if name != b"cookie":
            continue
        jar: SimpleCookie = SimpleCookie()
        try:
            jar.load(value.decode("latin-1"))
        except CookieError:
            continue
        morsel = jar.get(CSRF_COOKIE)
        if morsel is not None and COOKIE_RE.fullmatch(morsel.value):
            return morsel.value
    return None


class SecurityMiddleware:
    """Add the security headers to every response, and give each browser a CSRF cookie."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookie = _cookie_value(scope)
        new_cookie = None
        if cookie is None:
            cookie = new_cookie = secrets.token_urlsafe(32)
        scope.setdefault("state", {})["csrf_cookie"] = cookie

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if new_cookie is not None:
                    secure = "; Secure" if scope.get("scheme") == "https" else ""
                    headers.append(
                        "set-cookie",
                        f"{CSRF_COOKIE}={new_cookie}; Path=/; HttpOnly; SameSite=Strict{secure}",
                    )
            await send(message)

        await self.app(scope, receive, send_with_headers)


def safe_next(value: str | None, default: str = "/") -> str:
    """Return ``value`` if it is a path on this site, else ``default`` (no open redirects).

    Refused: absolute and scheme-relative URLs (``//evil.example``), backslashes that browsers
    read as slashes (``/\\evil.example``), and control characters.
    """
    if not value or not value.startswith("/") or value.startswith("//"):
        return default
    if "\\" in value or not value.isprintable():
        return default
    try:
        parts = urlsplit(value)
    except ValueError:
        return default
    if parts.scheme or parts.netloc:
        return default
    return value


async def read_form(request: Request, limit: int = MAX_FORM_BYTES) -> dict[str, list[str]]:
    """Return a url-encoded form body as {field: [values]}; 415 for other bodies, 413 if large."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise HTTPException(415, "expected a form (application/x-www-form-urlencoded)")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise HTTPException(413, f"form too large (over {limit} bytes)")
    try:
        return parse_qs(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=200, strict_parsing=False
        )
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(400, f"unreadable form: {exc}") from None


def form_value(form: dict[str, Any], name: str) -> str:
    """Return a form field's first value, stripped ('' when absent)."""
    values = form.get(name) or [""]
    return values[0].strip()


class RateLimiter:
    """At most one event per key per ``interval`` seconds, kept in this process's memory.

    Keys are kept in the order they were let through, so expired ones are dropped from the
    front in O(1) each. At most ``max_keys`` are held: beyond that, new keys wait too (a
    ceiling on the events of one interval). A restart forgets everything; each worker process
    counts on its own.
    """

    def __init__(
        self,
        interval: float,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self.max_keys = max_keys
        self._clock = clock
        self._last: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Return True (and count the event) unless ``key`` had one in the last interval."""
        now = self._clock()
        with self._lock:
            while self._last:
                oldest = next(iter(self._last.values()))
                if now - oldest < self.interval:
                    break
                self._last.popitem(last=False)
            if key in self._last or len(self._last) >= self.max_keys:
                return False
            self._last[key] = now
            return True

    def forget(self, key: str) -> None:
        """Let ``key`` through again at once (its event did not happen after all)."""
        with self._lock:
            self._last.pop(key, None)
