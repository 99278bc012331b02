"""Benchmark: digest mail for 500 subscribers through a local SMTP server, in mails per second.

Builds a SQLite store in a temporary folder with the test site's three articles and 500
subscribers (default preferences), makes their digests, then sends them to aiosmtpd on
127.0.0.1 over one SMTP connection. Prints the time to make the digests, to render the mail
alone, and the send rate (render + claim + SMTP + log, per mail), all measured in this run.
Run: make bench-mail (or uv run python benchmarks/mail.py [N]).
"""

from __future__ import annotations

import logging
import socket
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from aiosmtpd.controller import Controller

from extract.gazetteer import default_gazetteer
from flows.mailings import MailRenderer, deliver_pending, make_mailings
from flows.settings import load_settings
from flows.store import open_store

NOW = datetime(2021, 3, 5, 7, 0, tzinfo=UTC)


class CountingSink:
    """Accepts every message and counts them."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += len(envelope.rcpt_tos)
        return "250 OK"


def main() -> None:
    from test_mailings import add_article  # the same fixture data the tests use

    count = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    logging.basicConfig(level=logging.WARNING)
    sink = CountingSink()
    with socket.socket() as probe:  # a free port on 127.0.0.1
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    with tempfile.TemporaryDirectory(prefix="basewatch-bench-") as folder:
        settings = load_settings(
            data_dir=Path(folder),
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_security="none",
            secret_key="benchmark",
        )
        store = open_store(settings.resolved_database_url, default_gazetteer())
        for n in range(count):
            store.add_subscriber(f"reader{n:04d}@example.com")
        for name in ("asad-rockets-2021-03-03", "erbil-rockets-2021-02-16"):
            add_article(store, name)

        start = time.perf_counter()
        made = make_mailings(store, "digest", NOW)
        making = time.perf_counter() - start

        pending = store.pending_deliveries()
        renderer = MailRenderer(store, settings, pending)
        start = time.perf_counter()
        for item in pending:
            renderer.message(item).as_bytes()
        rendering = time.perf_counter() - start

        start = time.perf_counter()
        done = deliver_pending(store, settings)
        sending = time.perf_counter() - start
    controller.stop()
    assert done.sent == made == sink.count == count, (done, made, sink.count)
    print(f"subscribers: {count}; digests made in {making:.2f} s")
    print(f"render only: {count / rendering:.0f} mails/s ({rendering / count * 1000:.1f} ms each)")
    print(
        f"send: {done.sent} mails in {sending:.2f} s = {done.sent / sending:.0f} mails/s "
        "(render + claim + SMTP + delivery log, one connection)"
    )


if __name__ == "__main__":
    main()
