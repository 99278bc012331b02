"""HTTP fetching with httpx: timeouts, User-Agent, conditional GET, size cap, URL safety."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from dataclasses import dataclass
from datetime import UTC
from typing import ClassVar, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from urllib.robotparser import RobotFileParser

import httpx

from extract.errors import FetchError, TransientFetchError

__all__ = ["FetchResult", "Fetcher", "HostGate", "RobotsCache", "canonical_url", "check_url"]

# Query parameters that only track the reader; removing them makes one article one URL.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "ocid",
        "cmpid",
        "ref",
        "ref_src",
        "igshid",
        "yclid",
        "_ga",
        "smid",
        "partner",
        "cid",
        "output",
        "rss",
        "at_medium",
        "at_campaign",
        "taid",
    }
)
METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data"})
TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
# A Retry-After up to this long is waited out inside the request; a longer one ends the attempt.
MAX_RETRY_AFTER = 30.0


class HostGate:
    """Politeness per host, shared by every fetch of a run: at most ``max_per_host`` requests
    at once and at least ``min_delay`` seconds between the starts of two requests."""

    _lock = threading.Lock()
    _hosts: ClassVar[dict[str, tuple[threading.Semaphore, list[float]]]] = {}

    def __init__(self, max_per_host: int, min_delay: float) -> None:
        self.max_per_host = max(1, max_per_host)
        self.min_delay = max(0.0, min_delay)

    def _state(self, host: str) -> tuple[threading.Semaphore, list[float]]:
        with self._lock:
            if host not in self._hosts:
                self._hosts[host] = (threading.Semaphore(self.max_per_host), [0.0])
            return self._hosts[host]

    def enter(self, host: str) -> threading.Semaphore:
        """Wait for a slot and the delay; return the semaphore to release afterwards."""
        slot, last = self._state(host)
        slot.acquire()
        with self._lock:
            wait = last[0] + self.min_delay - time.monotonic()
            last[0] = max(time.monotonic(), last[0] + self.min_delay)
        if wait > 0:
            time.sleep(wait)
        return slot


class RobotsCache:
    """robots.txt per host, fetched at most once an hour per process (RFC 9309: a 4xx answer
    allows everything)."""

    TTL = 3600.0
    _lock = threading.Lock()
    _parsers: ClassVar[dict[str, tuple[float, RobotFileParser | None]]] = {}

    @classmethod
    def clear(cls) -> None:
        """Forget every robots.txt read so far."""
        with cls._lock:
            cls._parsers.clear()

    @classmethod
    def allowed(cls, client: httpx.Client, url: str, user_agent: str) -> bool:
        """Return True if robots.txt lets user_agent fetch url."""
        parts = urlsplit(url)
        root = f"{parts.scheme}://{parts.netloc}"
        with cls._lock:
            fetched, parser = cls._parsers.get(root, (0.0, None))
        if time.monotonic() - fetched > cls.TTL or root not in cls._parsers:
            parser = None
            try:
                response = client.get(f"{root}/robots.txt", follow_redirects=True)
                if response.status_code < 400:
                    parser = RobotFileParser()
                    parser.parse(response.text.splitlines())
            except httpx.HTTPError:
                parser = None  # unreachable robots.txt: the page fetch will report the fault
            with cls._lock:
                cls._parsers[root] = (time.monotonic(), parser)
        return parser is None or parser.can_fetch(user_agent, url)


def canonical_url(url: str) -> str:
    """Return the URL with tracking parameters and fragment removed, scheme and host lowered."""
    parts = urlsplit(url.strip())
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"  # an IPv6 literal keeps its brackets
    if (
        parts.port
        and not (parts.scheme == "http" and parts.port == 80)
        and not (parts.scheme == "https" and parts.port == 443)
    ):
        host = f"{host}:{parts.port}"
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host, path, urlencode(query), ""))


def _refused_ip(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    # Link-local covers 169.254.169.254, the cloud metadata address.
    return ip.is_link_local or ip.is_multicast or ip.is_unspecified or ip.is_reserved


def check_url(url: str, resolve: bool = True) -> None:
    """Raise FetchError unless the URL is http(s) and not a link-local or metadata address."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        raise FetchError(f"refused URL {url!r}: only http and https are fetched")
    host = (parts.hostname or "").lower()
    if not host:
        raise FetchError(f"refused URL {url!r}: no host")
    if host in METADATA_HOSTS:
        raise FetchError(f"refused URL {url!r}: metadata host")
    try:
        if _refused_ip(host):
            raise FetchError(f"refused URL {url!r}: link-local or reserved address")
        return
    except ValueError:
        pass  # a name, not an IP literal
    if resolve:
        try:
            infos = socket.getaddrinfo(host, None)
        except (socket.gaierror, UnicodeError) as exc:
            raise TransientFetchError(f"{host}: name lookup failed ({exc})") from exc
        if any(_refused_ip(info[4][0].split("%")[0]) for info in infos):
            raise FetchError(f"refused URL {url!r}: resolves to a link-local or reserved address")


def _retry_after(value: str | None) -> float | None:
    """Return the seconds a Retry-After header asks for (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    from datetime import datetime
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


@dataclass(frozen=True)
class FetchResult:
    """A response: 304 has no content; validators for the next conditional GET."""

    url: str
    status: int
    content: bytes
    etag: str | None
    last_modified: str | None
    content_type: str


class Fetcher:
    """One httpx client for a run: timeouts, User-Agent, size cap, safe redirects."""

    def __init__(
        self,
        *,
        user_agent: str,
        connect_timeout: float,
        read_timeout: float,
        max_bytes: int,
        gate: HostGate | None = None,
        robots: bool = True,
    ) -> None:
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self.gate = gate or HostGate(max_per_host=2, min_delay=0.0)
        self.robots = robots
        self.client = httpx.Client(
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
            follow_redirects=True,
            max_redirects=5,
            event_hooks={"request": [lambda request: check_url(str(request.url))]},
        )

    def close(self) -> None:
        """Close the connection pool."""
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(
        self, url: str, etag: str | None = None, last_modified: str | None = None
    ) -> FetchResult:
        """Return the response for url; FetchError (or TransientFetchError) on failure."""
        if self.robots and not RobotsCache.allowed(self.client, url, self.user_agent):
            raise FetchError(f"{url}: disallowed by robots.txt")
        slot = self.gate.enter(urlsplit(url).netloc)
        try:
            return self._get(url, etag, last_modified)
        finally:
            slot.release()

    def _get(
        self, url: str, etag: str | None, last_modified: str | None, waited: bool = False
    ) -> FetchResult:
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                if response.status_code == 304:
                    return FetchResult(str(response.url), 304, b"", etag, last_modified, "")
                if response.status_code in TRANSIENT_STATUS:
                    delay = _retry_after(response.headers.get("Retry-After"))
                    if delay is not None and delay <= MAX_RETRY_AFTER and not waited:
                        response.close()
                        time.sleep(delay)  # the server said when: wait that long, once
                        return self._get(url, etag, last_modified, waited=True)
                    later = f", retry after {delay:.0f}s" if delay is not None else ""
                    raise TransientFetchError(f"HTTP {response.status_code} from {url}{later}")
                if response.status_code >= 400:
                    raise FetchError(f"HTTP {response.status_code} from {url}")
                declared = response.headers.get("Content-Length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise FetchError(f"{url}: response larger than {self.max_bytes} bytes")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise FetchError(f"{url}: response larger than {self.max_bytes} bytes")
                    chunks.append(chunk)
                return FetchResult(
                    str(response.url),
                    response.status_code,
                    b"".join(chunks),
                    response.headers.get("ETag"),
                    response.headers.get("Last-Modified"),
                    response.headers.get("Content-Type", ""),
                )
        except httpx.TimeoutException as exc:
            raise TransientFetchError(f"{url}: timed out ({type(exc).__name__})") from exc
        except httpx.TransportError as exc:
            raise TransientFetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{url}: {type(exc).__name__}: {exc}") from exc
