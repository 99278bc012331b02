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
        if record.exc_info and logging.getLogger().isEnabledFor(logging.DEBUG):
            message += "\n" + self.formatException(record.exc_info)
        return message


class EngineNoiseFilter(logging.Filter):
    """Drop Prefect's own run chatter ("Beginning flow run", "Finished in state") from the
    terminal; basewatch's lines and every warning from our code stay. The API still gets all.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            return True
        from_prefect = "/prefect/" in record.pathname.replace("\\", "/")
        return not (from_prefect and record.name.startswith(("prefect.flow_runs",
                                                              "prefect.task_runs")))
