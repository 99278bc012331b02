"""flows.fetch: canonical URLs, URL safety, and the Fetcher against the local HTTP server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from conftest import SITE, Site, free_port

from extract.errors import FetchError, TransientFetchError
from flows.fetch import Fetcher, RobotsCache, canonical_url, check_url

USER_AGENT = "basewatch-tests/1"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.com/a?utm_source=rss&utm_medium=feed&id=3", "https://example.com/a?id=3"),
        (
            "https://example.com/a?fbclid=IwAR0xyz&page=2&UTM_Campaign=x",
            "https://example.com/a?page=2",
        ),
        ("https://example.com/story#comments", "https://example.com/story"),
        ("HTTPS://Example.COM/Story?utm_term=a#top", "https://example.com/Story"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("http://127.0.0.1:8080/a?gclid=1", "http://127.0.0.1:8080/a"),
        ("https://example.com", "https://example.com/"),
    ],
)
def test_canonical_url_strips_tracking_and_fragment(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://[::1]:8080/a?utm_source=x", "http://[::1]:8080/a"),
        ("https://[2001:db8::1]/feed.xml", "https://[2001:db8::1]/feed.xml"),
    ],
)
def test_canonical_url_keeps_ipv6_brackets(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_canonical_url_is_idempotent() -> None:
    once = canonical_url("https://Example.com/a/b?x=1&utm_source=y#f")
    assert canonical_url(once) == once


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/feed.xml",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.GOOGLE.INTERNAL/computeMetadata/v1/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://0.0.0.0/",
        "http:///no-host",
    ],
)
def test_check_url_refuses(url: str) -> None:
    with pytest.raises(FetchError) as caught:
        check_url(url)
    assert not isinstance(caught.value, TransientFetchError)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/feed.xml", "https://127.0.0.1/a"])
def test_check_url_allows_loopback_http(url: str) -> None:
    check_url(url)  # no exception


def capped(max_bytes: int) -> Fetcher:
    """Return a fetcher with a small size cap."""
    return Fetcher(
        user_agent=USER_AGENT, connect_timeout=0.5, read_timeout=0.5, max_bytes=max_bytes
    )


@pytest.fixture
def fetcher() -> Iterator[Fetcher]:
    with Fetcher(
        user_agent=USER_AGENT, connect_timeout=0.5, read_timeout=0.5, max_bytes=1_000_000
    ) as client:
        yield client


def test_get_200_returns_content_and_validators(site: Site, fetcher: Fetcher) -> None:
    url = site.article_url("asad-rockets-2021-03-03")
    result = fetcher.get(url)
    assert result.status == 200
    assert result.content == (SITE / "articles" / "asad-rockets-2021-03-03.html").read_bytes()
    assert result.etag and result.etag.startswith('"')
    assert result.content_type.startswith("text/html")
    assert (
        site.requests_to("/articles/asad-rockets-2021-03-03.html")[-1].headers["User-Agent"]
        == USER_AGENT
    )


def test_get_with_etag_returns_304_without_content(site: Site, fetcher: Fetcher) -> None:
    url = site.url("/feed.xml")
    first = fetcher.get(url)
    second = fetcher.get(url, etag=first.etag)
    assert (second.status, second.content, second.etag) == (304, b"", first.etag)
    seen = site.requests_to("/feed.xml")[-1]
    assert (seen.headers.get("If-None-Match"), seen.status) == (first.etag, 304)


def test_get_404_is_a_permanent_fetch_error(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(FetchError, match="HTTP 404") as caught:
        fetcher.get(site.url("/articles/no-such-article.html"))
    assert not isinstance(caught.value, TransientFetchError)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_get_5xx_and_429_are_transient(site: Site, fetcher: Fetcher, status: int) -> None:
    with pytest.raises(TransientFetchError, match=f"HTTP {status}"):
        fetcher.get(site.url(f"/status/{status}"))


def test_get_slow_response_times_out_as_transient(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(TransientFetchError, match="timed out"):
        fetcher.get(site.url("/slow"))


def test_get_connection_refused_is_transient(fetcher: Fetcher) -> None:
    with pytest.raises(TransientFetchError):
        fetcher.get(f"http://127.0.0.1:{free_port()}/feed.xml")


def test_get_oversize_declared_length_is_a_fetch_error(site: Site) -> None:
    with (
        capped(10_000) as small,
        pytest.raises(FetchError, match="larger than 10000 bytes") as caught,
    ):
        small.get(site.url("/big?size=50000"))
    assert not isinstance(caught.value, TransientFetchError)


def test_get_oversize_stream_without_length_is_a_fetch_error(site: Site) -> None:
    with capped(10_000) as small, pytest.raises(FetchError, match="larger than 10000 bytes"):
        small.get(site.url("/big-stream?size=50000"))


def test_get_counts_decompressed_bytes_against_the_cap(site: Site) -> None:
    # A few KB of gzip that inflate to 2 MB must not get past a 100 KB cap.
    with capped(100_000) as small, pytest.raises(FetchError, match="larger than 100000 bytes"):
        small.get(site.url("/gzip-bomb"))


def test_get_under_the_cap_succeeds(site: Site) -> None:
    with capped(10_000) as small:
        assert len(small.get(site.url("/big?size=10000")).content) == 10_000


def test_redirect_to_metadata_address_is_refused(site: Site, fetcher: Fetcher) -> None:
    # The refusal happens before any connection to 169.254.169.254 is made.
    with pytest.raises(FetchError, match="refused URL") as caught:
        fetcher.get(site.url("/redirect?to=http://169.254.169.254/latest/meta-data/"))
    assert not isinstance(caught.value, TransientFetchError)


def test_redirect_within_the_site_is_followed(site: Site, fetcher: Fetcher) -> None:
    target = site.article_url("erbil-rockets-2021-02-16")
    result = fetcher.get(site.url(f"/redirect?to={target}"))
    assert (result.status, result.url) == (200, target)


# -- politeness -------------------------------------------------------------------------------


@pytest.fixture
def robots(site: Site) -> Iterator[Site]:
    """The site with a robots.txt the test sets; the cache forgets it before and after."""
    RobotsCache.clear()
    yield site
    site.robots = None
    RobotsCache.clear()


def test_robots_txt_disallow_is_honoured(robots: Site) -> None:
    site = robots
    site.robots = "User-agent: *\nDisallow: /articles/asad-rockets-2021-03-03.html\n"
    before = len(site.requests)
    with Fetcher(
        user_agent="basewatch-test", connect_timeout=1, read_timeout=1, max_bytes=1_000_000
    ) as fetcher:
        with pytest.raises(FetchError, match="robots.txt") as caught:
            fetcher.get(site.article_url("asad-rockets-2021-03-03"))
        assert not isinstance(caught.value, TransientFetchError)
        assert fetcher.get(site.article_url("erbil-rockets-2021-02-16")).status == 200
    assert not any(r.path.startswith("/articles/asad") for r in site.requests[before:])


def test_robots_txt_can_be_ignored_by_setting(robots: Site) -> None:
    site = robots
    site.robots = "User-agent: *\nDisallow: /\n"
    with Fetcher(
        user_agent="basewatch-test",
        connect_timeout=1,
        read_timeout=1,
        max_bytes=1_000_000,
        robots=False,
    ) as fetcher:
        assert fetcher.get(site.article_url("asad-rockets-2021-03-03")).status == 200


def test_short_retry_after_is_waited_out_once(site: Site, fetcher: Fetcher) -> None:
    result = fetcher.get(site.url("/busy?after=0"))
    assert result.status == 200
    assert [r.status for r in site.requests if r.path == "/busy?after=0"] == [503, 200]


def test_long_retry_after_ends_the_attempt_as_transient(site: Site, fetcher: Fetcher) -> None:
    with pytest.raises(TransientFetchError, match="retry after 600s"):
        fetcher.get(site.url("/busy?after=600"))
    assert [r.status for r in site.requests if r.path == "/busy?after=600"] == [503]
