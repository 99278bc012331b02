"""Benchmark: polling and backfilling on a local site, as whole `basewatch` commands.

(a) a poll of 50 unchanged feeds (every answer a 304): wall time, requests and bytes;
(b) a backfill of N article pages (--urls) beside a bare loop doing the same work without
    Prefect or the store (httpx GET + trafilatura + extract_events, one page after another);
(c) the peak memory (resident set) of each;
(d) (b) and (c) at 500, 1,000 and 2,000 pages, to show how the cost grows.

Every figure is one run of a whole process on a shared machine: read the ratios, not the
absolute times. The fixed cost of a backfill command (start-up, Prefect's temporary server)
is measured on an empty window and shown apart. All servers listen on 127.0.0.1.
Run: make bench (or uv run python benchmarks/operations.py [--sizes 500,1000,2000]).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import history_server  # after the sys.path line

FEEDS = 50
BASEWATCH = [sys.executable, "-c", "from flows.cli import main; main()"]
# One host serves everything here: politeness per host would time the delay, not basewatch.
FAST = {
    "BASEWATCH_MIN_HOST_DELAY": "0",
    "BASEWATCH_MAX_PER_HOST": "8",
    "BASEWATCH_RESPECT_ROBOTS": "false",
}
BARE_LOOP = """
import sys, httpx
from extract.article import extract_page
from extract.events import extract_events
from extract.gazetteer import default_gazetteer
from datetime import UTC, datetime, time
gazetteer = default_gazetteer()
pages = events = 0
with httpx.Client(timeout=20) as client:
    for url in open(sys.argv[1]).read().split():
        page = extract_page(client.get(url).content, url)
        if page is None:
            continue
        published = datetime.combine(page.date or datetime.now(UTC).date(), time(12), tzinfo=UTC)
        events += len(extract_events(page.text, published, url, gazetteer))
        pages += 1
print(pages, events)
"""


@dataclass
class Run:
    """One finished process: wall seconds, peak resident memory (MB), what it printed."""

    wall: float
    peak_mb: float
    out: str


def run(command: list[str], env: dict[str, str]) -> Run:
    """Run a command to the end; return its wall time and its own peak memory."""
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    out = process.stdout.read()
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(command)}\n{out}")
    return Run(wall, usage.ru_maxrss / 1024, out)


def _env(data: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BASEWATCH_", "PREFECT_"))}
    # One Prefect home for every run, as on a machine that has run basewatch before: its
    # database is created once (in the warm-up), not timed in every run.
    env.update(FAST, BASEWATCH_DATA_DIR=str(data), PREFECT_HOME=str(data.parent / "prefect"))
    env.update(more)
    return env


# -- (a) 50 unchanged feeds --------------------------------------------------------------------


class _FeedHandler(BaseHTTPRequestHandler):
    """50 feeds, one item each (full text in the feed), with ETags: unchanged means 304."""

    counts: dict[str, float]
    lock = threading.Lock()
    article = ""
    base = ""

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        if self.path.startswith("/articles/"):
            number = self.path.removeprefix("/articles/")
            page = f"<html><body><article><p>Report {number}.</p>{self.article}</article></body>"
            self._answer(f"{page}</html>".encode(), "text/html; charset=utf-8")
            return
        number = self.path.strip("/").removeprefix("feed-").removesuffix(".xml")
        body = (
            '<?xml version="1.0"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
            f"<title>Feed {number}</title><link>http://127.0.0.1/</link><description>d"
            f"</description><item><title>Item {number}</title>"
            f"<link>{self.base}/articles/{number}</link><guid>item-{number}</guid>"
            "<pubDate>Sun, 14 Jun 2020 09:00:00 +0300</pubDate><content:encoded><![CDATA["
            f"<p>Feed {number}.</p>{self.article}]]></content:encoded></item></channel></rss>"
        ).encode()
        self._answer(body, "application/rss+xml")

    def _answer(self, body: bytes, content_type: str) -> None:
        tag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        unchanged = self.headers.get("If-None-Match") == tag
        self.send_response(304 if unchanged else 200)
        self.send_header("ETag", tag)
        if not unchanged:
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if not unchanged:
            self.wfile.write(body)
        with self.lock:
            now = time.perf_counter()
            self.counts.setdefault("first", now)
            self.counts["last"] = now
            key = "304" if unchanged else "200"
            self.counts[key] = self.counts.get(key, 0) + 1
            self.counts["bytes"] = self.counts.get("bytes", 0) + (0 if unchanged else len(body))


def poll_unchanged(work: Path) -> list[tuple[str, str]]:
    """Return the rows for (a): a second poll of 50 feeds that have not changed."""
    seed = (ROOT / "seeds" / "001_taji_rockets_levant_wire.txt").read_text(encoding="utf-8")
    article = "".join(f"<p>{p}</p>" for p in seed.split("\n\n"))
    counts: dict[str, float] = {}
    handler = type("H", (_FeedHandler,), {"counts": counts, "article": article})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = handler.base = f"http://127.0.0.1:{server.server_address[1]}"
    sources = work / "feeds.yaml"
    feeds = [{"name": f"feed-{n}", "url": f"{base}/feed-{n}.xml"} for n in range(FEEDS)]
    sources.write_text(yaml.safe_dump({"feeds": feeds}), encoding="utf-8")
    env = _env(work / "poll", BASEWATCH_SOURCES=str(sources))
    first = run([*BASEWATCH, "ingest"], env)
    counts.clear()
    second = run([*BASEWATCH, "ingest"], env)
    server.shutdown()
    return [
        ("(a) first poll of 50 feeds (all new)", f"{first.wall:.1f} s wall"),
        (
            "(a) second poll of 50 unchanged feeds",
            (
                f"{second.wall:.1f} s wall, of which polling (first to last request) "
                f"{counts['last'] - counts['first']:.2f} s; {counts.get('304', 0):.0f} x 304, "
                f"{counts.get('200', 0):.0f} x 200; {counts.get('bytes', 0):.0f} body bytes; "
                f"peak {second.peak_mb:.0f} MB"
            ),
        ),
        ("    its summary", second.out.strip().splitlines()[-1]),
    ]


# -- (b, c, d) backfill versus a bare loop -----------------------------------------------------


def backfill_rows(work: Path, sizes: list[int], workers: list[int]) -> list[tuple[str, ...]]:
    """Return one row per size (and worker count): backfill and bare loop, time and memory."""
    largest = max(sizes)
    server, history, _ = history_server.start(largest)
    rows = []
    first = history.pages[0].published.date()
    last = history.pages[-1].published.date()
    window = ["--since", first.isoformat(), "--until", last.isoformat()]
    empty = work / "empty.txt"
    empty.write_text(history.url(history.pages[0]) + "\n")
    nothing = [*BASEWATCH, "backfill", "--since", "1999-01-01", "--until", "1999-01-02",
               "--urls", str(empty)]  # fmt: skip
    fixed = min(
        (run(nothing, _env(work / f"fixed-{n}")) for n in range(3)), key=lambda r: r.wall
    )  # the first of the three is the warm-up
    for size in sizes:
        urls = work / f"urls-{size}.txt"
        urls.write_text("".join(history.url(p) + "\n" for p in history.pages[:size]))
        bare = run([sys.executable, "-c", BARE_LOOP, str(urls)], _env(work / "bare"))
        for count in workers if size == largest else workers[:1]:
            data = work / f"backfill-{size}-{count}"
            env = _env(data, BASEWATCH_BACKFILL_WORKERS=str(count))
            done = run([*BASEWATCH, "backfill", *window, "--urls", str(urls)], env)
            summary = next(line for line in done.out.splitlines() if "new articles" in line)
            if f"{size} new articles" not in summary:
                raise SystemExit(f"backfill of {size} pages stored something else: {summary}")
            net = max(done.wall - fixed.wall, 1e-9)
            rows.append(
                (
                    f"{size}",
                    f"{count}",
                    f"{done.wall:.1f}",
                    f"{size / done.wall:.1f}",
                    f"{size / net:.1f}",
                    f"{bare.wall:.1f}",
                    f"{size / bare.wall:.1f}",
                    f"{done.wall / bare.wall:.2f}",
                    f"{net / bare.wall:.2f}",
                    f"{done.peak_mb:.0f}",
                    f"{bare.peak_mb:.0f}",
                )
            )
    server.shutdown()
    rows.insert(0, (f"fixed cost of a backfill command (one page): {fixed.wall:.1f} s",))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,1000,2000")
    parser.add_argument("--workers", default="1,2", help="worker counts tried at the top size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    with tempfile.TemporaryDirectory(prefix="basewatch-bench-") as folder:
        work = Path(folder)
        for name, value in poll_unchanged(work):
            print(f"{name:<40} {value}")
        print()
        rows = backfill_rows(work, sizes, workers)
    print(rows[0][0])
    header = (
        "pages", "workers", "wall s", "art/s", "net art/s", "bare s", "bare art/s",
        "ratio", "net ratio", "peak MB", "bare MB",
    )  # fmt: skip
    widths = [max(len(h), *(len(r[i]) for r in rows[1:])) for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)))
    for row in rows[1:]:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths)))
    print(
        "ratio = backfill wall / bare loop wall (target <= 1.3); net = without the fixed cost; "
        "peak MB = the basewatch process's resident set (target <= 500; Dask's worker "
        "processes, with 2 workers, come on top)"
    )


if __name__ == "__main__":
    main()
