"""The environment Prefect needs before it is imported: quiet, local, and quick to start."""

from __future__ import annotations

from pathlib import Path

__all__ = ["prefect_environment"]

LOGGING_CONFIG = Path(__file__).with_name("prefect_logging.yml")


def prefect_environment(data_dir: Path) -> dict[str, str]:
    """Return PREFECT_* settings for running basewatch's flows on the local ephemeral server.

    Values already in the environment win (the CLI uses setdefault), so a real Prefect server
    is used when PREFECT_API_URL is set.
    """
    return {
        "PREFECT_HOME": str((data_dir / "prefect").resolve()),
        "PREFECT_LOGGING_SETTINGS_PATH": str(LOGGING_CONFIG),
        # Without this, the first start of the server prints a "database is locked" traceback.
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        # The client's telemetry too, which on a terminal prints a notice at the first run.
        "DO_NOT_TRACK": "1",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
    }
