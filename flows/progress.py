"""Progress of a long run (a backfill) in the terminal: a live bar, or periodic plain lines.

The flow reports through ``current()``; the CLI chooses the display with ``showing()``. Without
one (a scheduled or programmatic run), reports go nowhere.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

import click

__all__ = ["LineProgress", "Progress", "TerminalProgress", "current", "showing"]


class Progress(Protocol):
    """Something that shows how far a run is."""

    def start(self, total: int, done: int = 0) -> None: ...

    def advance(self, count: int) -> None: ...

    def close(self) -> None: ...


class _Silent:
    def start(self, total: int, done: int = 0) -> None:
        """Ignore."""

    def advance(self, count: int) -> None:
        """Ignore."""

    def close(self) -> None:
        """Ignore."""


def _duration(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class LineProgress:
    """One plain line every ``every`` seconds and at the end: for logs and pipes (no TTY)."""

    def __init__(self, label: str, every: float = 10.0) -> None:
        self.label, self.every = label, every
        self.total = self.done = self.first = 0
        self.shown_done = -1
        self.started = self.shown = time.monotonic()

    def start(self, total: int, done: int = 0) -> None:
        """Begin counting ``total`` items, ``done`` of them already done (a resumed run)."""
        self.total, self.done, self.first = total, done, done
        self.started = self.shown = time.monotonic()

    def advance(self, count: int) -> None:
        """Count ``count`` more items done."""
        self.done += count
        if time.monotonic() - self.shown >= self.every:
            self._show()

    def close(self) -> None:
        """Show the last line (once)."""
        if self.total and self.shown_done != self.done:
            self._show()

    def _show(self) -> None:
        self.shown, self.shown_done = time.monotonic(), self.done
        elapsed = max(self.shown - self.started, 1e-9)
        rate = (self.done - self.first) / elapsed
        left = (self.total - self.done) / rate if rate > 0 else 0.0
        percent = 100 * self.done / self.total if self.total else 100.0
        click.echo(
            f"{self.label}: {self.done}/{self.total} pages ({percent:.0f}%), "
            f"{rate:.1f}/s, elapsed {_duration(elapsed)}, ETA {_duration(left)}",
            err=True,
        )


class TerminalProgress:
    """A live bar (rich) on stderr: count, rate, elapsed time and ETA."""

    def __init__(self, label: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            TaskProgressColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.bar = Bar(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self.label = label
        self.task = None
        self.first = 0
        self.started = time.monotonic()

    def start(self, total: int, done: int = 0) -> None:
        """Show the bar for ``total`` items, ``done`` of them already done."""
        self.first, self.started = done, time.monotonic()
        self.bar.start()
        self.task = self.bar.add_task(self.label, total=total, completed=done, rate="")

    def advance(self, count: int) -> None:
        """Move the bar ``count`` items on."""
        if self.task is None:
            return
        self.bar.advance(self.task, count)
        done = self.bar.tasks[0].completed - self.first
        rate = done / max(time.monotonic() - self.started, 1e-9)
        self.bar.update(self.task, rate=f"{rate:.1f}/s")

    def close(self) -> None:
        """Stop redrawing; the last state stays on screen."""
        if self.task is not None:
            self.bar.stop()


_CURRENT: Progress = _Silent()


def current() -> Progress:
    """Return where the running flow reports its progress."""
    return _CURRENT


@contextmanager
def showing(label: str, live: bool | None = None) -> Iterator[Progress]:
    """Report progress in the terminal while the block runs: a live bar when stderr is a
    terminal (or ``live``), else a plain line every 10 seconds."""
    global _CURRENT
    if live is None:
        live = sys.stderr.isatty() and sys.stdout.isatty()
    shown: Progress = TerminalProgress(label) if live else LineProgress(label)
    before, _CURRENT = _CURRENT, shown
    try:
        yield shown
    finally:
        _CURRENT = before
        shown.close()
