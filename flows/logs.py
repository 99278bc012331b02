"""Terminal log format for basewatch (and Prefect's loggers when basewatch runs flows)."""

from __future__ import annotations

import logging

__all__ = ["CliFormatter", "EngineNoiseFilter"]


class CliFormatter(logging.Formatter):
    """One plain line per record; warnings and errors say so. Tracebacks only at DEBUG."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__("%(message)s")

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.levelno >= logging.ERROR:
            message = f"error: {message}"
        elif record.levelno >= logging.WARNING:
            message = f"warning: {message}"
        if record.exc_info and EngineNoiseFilter.verbose:
            message += "\n" + self.formatException(record.exc_info)
        return message


class EngineNoiseFilter(logging.Filter):
    """Keep the terminal to warnings from basewatch's own code.

    Prefect's run chatter ("Beginning flow run", "Finished in state") and the flows' INFO stage
    lines still reach the Prefect API (and its UI); the CLI prints its own summary instead. An
    unexpected failure is reported once by the CLI, so the engine's copy is dropped too.
    """

    verbose = False  # set by `basewatch --debug`

    def filter(self, record: logging.LogRecord) -> bool:
        if self.verbose:
            return True
        if not record.name.startswith(("prefect.flow_runs", "prefect.task_runs")):
            return True
        from_prefect = "/prefect/" in record.pathname.replace("\\", "/")
        return record.levelno >= logging.WARNING and not from_prefect
