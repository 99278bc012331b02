"""A local past-news site for trying and timing backfills: article pages made from the seed
articles, a WordPress-style paged feed, a sitemap index with lastmod, and a GDELT-like API.

Run: uv run python benchmarks/history_server.py --pages 500 --sources /tmp/history.yaml
It prints the site's address and writes a sources file whose one source backfills from the
paged feed and the sitemap; Ctrl-C stops it. The pages are dated one every 12 hours from
1 January 2020 (Iraq time).
"""

from __future__ import annotations

import argparse
import sys
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from history_site import HistorySite, make_pages  # after the sys.path line

FIRST = datetime(2020, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=3)))
STEP = timedelta(hours=12)


class _Handler(BaseHTTPRequestHandler):
    history: HistorySite
    served: list[int]  # [requests, body bytes]
    lock = threading.Lock()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        answer = self.history.answer(parts.path, parts.query)
        status, body, content_type = answer or (404, b"not found", "text/plain")
        with self.lock:
            self.served[0] += 1
            self.served[1] += len(body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def start(pages: int, port: int = 0) -> tuple[ThreadingHTTPServer, HistorySite, list[int]]:
    """Serve ``pages`` past articles on 127.0.0.1 in a thread; return the server, the site and
    the [requests, bytes] counter."""
    history = HistorySite(make_pages(pages, FIRST, STEP), prefix="/news")
    served = [0, 0]
    handler = type("Handler", (_Handler,), {"history": history, "served": served})
    server = ThreadingHTTPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    history.base = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, history, served


def write_sources(history: HistorySite, path: Path) -> None:
    """Write a sources file whose source backfills from the paged feed and the sitemap."""
    entry = {
        "name": "history-wire",
        "url": f"{history.base}/news/feed",
        "backfill": {"paged": True, "sitemap": f"{history.base}/news/sitemap_index.xml"},
    }
    path.write_text(yaml.safe_dump({"feeds": [entry]}, sort_keys=False), encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--sources", type=Path, help="write a sources file here")
    args = parser.parse_args()
    server, history, _ = start(args.pages, args.port)
    last = history.pages[-1].published.date()
    print(f"{args.pages} pages from {FIRST.date()} to {last} at {history.base}/news/", flush=True)
    if args.sources:
        write_sources(history, args.sources)
        print(f"sources file: {args.sources}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
