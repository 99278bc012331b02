"""A digest run killed while sending, then run again, sends only to those not yet served."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from conftest import Site, SmtpSink

from extract.gazetteer import default_gazetteer
from flows.digest import digest
from flows.ingest import ingest
from flows.settings import Settings
from flows.store import open_store

ADDRESSES = ["one@example.com", "two@example.com", "three@example.com"]
ROOT = Path(__file__).resolve().parents[1]


class HoldingSink(SmtpSink):
    """Accepts mail, but holds the DATA reply for chosen recipients until the client is gone."""

    def __init__(self, hold: set[str]) -> None:
        super().__init__()
        self.hold = hold
        self.holding = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if self.hold & set(envelope.rcpt_tos):
            self.holding.set()
            await asyncio.sleep(60)  # the client is killed long before this ends
            return "451 try again later"
        return await super().handle_DATA(server, session, envelope)


def _wait_for(condition: Callable[[], bool], process: subprocess.Popen, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"basewatch exited early: {process.stderr.read()}")
        if time.monotonic() > deadline:
            process.kill()
            raise AssertionError("basewatch never reached the held delivery")
        time.sleep(0.05)


def test_killed_run_resumes_with_the_rest_and_sends_no_one_twice(
    site: Site,
    settings: Callable[..., Settings],
    smtp_factory: Callable[[], SmtpSink],
    tmp_path: Path,
) -> None:
    holding = HoldingSink(hold={"two@example.com"}).start()
    try:
        feed = site.add_feed([site.article_item("asad-rockets-2021-03-03")])
        config = settings([{"name": "testwire", "url": feed}], smtp=holding)
        store = open_store(config.resolved_database_url, default_gazetteer())
        for address in ADDRESSES:
            store.add_subscriber(address)
        ingest(config)
        assert digest(config, send=False).digest_id == 1  # three deliveries now pending

        env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_API")}
        env.update(
            BASEWATCH_DATA_DIR=str(config.data_dir),
            BASEWATCH_DATABASE_URL=config.resolved_database_url,
            BASEWATCH_SMTP_HOST="127.0.0.1",
            BASEWATCH_SMTP_PORT=str(holding.port),
            BASEWATCH_SMTP_SECURITY="none",
            PREFECT_HOME=str(tmp_path / "prefect-home"),
        )
        process = subprocess.Popen(
            [sys.executable, "-c", "from flows.cli import main; main()", "digest"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        # One message is accepted, the second is held at DATA: kill the run right there.
        _wait_for(holding.holding.is_set, process, limit=180)
        process.kill()
        process.wait()
    finally:
        holding.stop()

    assert [r.recipient for r in holding.received] == ["one@example.com"]
    assert [p.email for p in store.pending_deliveries()] == ["two@example.com", "three@example.com"]

    again = smtp_factory()
    report = digest(config.model_copy(update={"smtp_port": again.port}))
    assert report.digest_id is None and report.sent == 2 and report.pending == 0
    everyone = Counter(r.recipient for r in holding.received + again.received)
    assert everyone == {address: 1 for address in ADDRESSES}
