"""flows.ingest on the local HTTP site: de-duplication and when a feed is asked for again."""

from __future__ import annotations

from collections.abc import Callable

from conftest import Site

from flows.ingest import ingest
from flows.settings import Settings


def test_same_guid_in_two_feeds_is_two_articles(
    site: Site, settings: Callable[..., Settings]
) -> None:
    # GUIDs are unique within a feed, not across feeds: "1" in two feeds is two items.
    first = site.add_feed([site.article_item("asad-rockets-2021-03-03", guid="1")])
    second = site.add_feed([site.article_item("erbil-rockets-2021-02-16", guid="1")])
    report = ingest(settings([{"name": "first", "url": first}, {"name": "second", "url": second}]))
    assert report.sources_ok == ["first", "second"]
    assert report.articles_new == 2


def test_same_article_in_two_feeds_is_stored_once(
    site: Site, settings: Callable[..., Settings]
) -> None:
    item = site.article_item("asad-rockets-2021-03-03")
    first = site.add_feed([item])
    second = site.add_feed([dict(item, guid="another-guid", link=item["link"] + "?utm_source=x")])
    report = ingest(settings([{"name": "first", "url": first}, {"name": "second", "url": second}]))
    assert (report.articles_new, len(report.incidents_new)) == (1, 1)


def test_feed_is_fetched_again_while_an_article_failed(
    site: Site, settings: Callable[..., Settings]
) -> None:
    feed = site.add_feed(
        [
            site.article_item("asad-rockets-2021-03-03"),
            site.article_item("erbil-rockets-2021-02-16", link="{base}/articles/gone.html"),
        ]
    )
    config = settings([{"name": "wire", "url": feed}])
    first = ingest(config)
    assert (first.articles_new, first.articles_failed) == (1, 1)
    again = ingest(config)
    assert (again.articles_new, again.articles_failed) == (0, 1)
    polls = site.requests_to(feed.removeprefix(site.base))
    # No ETag was kept, so the feed is read again and the failed article is tried again.
    assert [p.status for p in polls] == [200, 200]
    assert "If-None-Match" not in polls[1].headers
    assert len(site.requests_to("/articles/gone.html")) == 2
