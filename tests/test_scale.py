"""Delivery at scale: 500 subscribers, one SMTP connection, a server that drops or refuses.

Each subscriber gets exactly one mail however the batch is interrupted: a dropped connection is
opened again and the batch goes on; a server that refuses (421) stops the batch, and the next
run sends the rest. The mailing steps run as plain functions on a real store and aiosmtpd.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from conftest import SmtpSink
from test_mailings import add_article

from extract.gazetteer import default_gazetteer
from flows.mailings import deliver_pending, make_mailings
from flows.settings import Settings
from flows.store import Store, open_store

SUBSCRIBERS = [f"reader{n:03d}@example.com" for n in range(500)]
NOW = datetime(2021, 3, 5, 7, 0, tzinfo=UTC)


class FlakySink(SmtpSink):
    """aiosmtpd that drops the connection at chosen MAIL commands, or refuses (421) while down."""

    def __init__(self) -> None:
        super().__init__()
        self.drop_at: set[int] = set()  # numbers of MAIL commands at which the link is cut
        self.down_after: int | None = None  # after this many accepted messages, answer 421
        self.mails = 0
        self.connections = 0

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self.connections += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails += 1
        if self.mails in self.drop_at:
            server.transport.close()  # no reply: the client sees the connection go
            return "421 4.4.2 connection dropped"
        if self.down_after is not None and len(self.received) >= self.down_after:
            return "421 4.3.2 service not available, try later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"


@pytest.fixture
def crowd(
    settings: Callable[..., Settings], smtp_factory: Callable[[], SmtpSink]
) -> tuple[Settings, Store, FlakySink]:
    sink = FlakySink().start()
    config = settings([], smtp=sink, secret_key="scale-secret")
    store = open_store(config.resolved_database_url, default_gazetteer())
    for address in SUBSCRIBERS:
        store.add_subscriber(address)
    add_article(store, "asad-rockets-2021-03-03")
    add_article(store, "erbil-rockets-2021-02-16")
    assert make_mailings(store, "digest", NOW) == 500
    yield config, store, sink
    sink.stop()


def test_500_subscribers_one_connection_each_gets_one_mail(
    crowd: tuple[Settings, Store, FlakySink],
) -> None:
    config, store, sink = crowd
    sink.drop_at = {120, 333}  # the server cuts the connection twice in the middle
    done = deliver_pending(store, config)
    assert (done.sent, done.failed, done.stopped) == (500, [], None)
    assert Counter(r.recipient for r in sink.received) == {a: 1 for a in SUBSCRIBERS}
    assert sink.connections == 3  # one for the batch, one after each drop
    assert len({r.message["Message-ID"] for r in sink.received}) == 500
    assert store.pending_deliveries() == []
    again = deliver_pending(store, config)
    assert (again.sent, len(sink.received)) == (0, 500)


def test_server_refusing_mid_batch_leaves_the_rest_for_the_next_run(
    crowd: tuple[Settings, Store, FlakySink],
) -> None:
    config, store, sink = crowd
    sink.down_after = 200
    first = deliver_pending(store, config)
    assert first.sent == 200
    assert first.failed == [SUBSCRIBERS[200]]
    assert first.stopped == "mail server unreachable; 299 left for the next run"
    assert len(store.pending_deliveries()) == 300

    sink.down_after = None  # the server is back
    second = deliver_pending(store, config)
    assert (second.sent, second.failed, second.stopped) == (300, [], None)
    assert Counter(r.recipient for r in sink.received) == {a: 1 for a in SUBSCRIBERS}
    assert store.pending_deliveries() == []
