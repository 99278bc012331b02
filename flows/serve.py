"""`basewatch serve`: the ingest and digest flows as Prefect deployments on cron schedules.

Prefect's ephemeral server runs no scheduler, so serving needs a real one: the one at
PREFECT_API_URL if set, else a local `prefect server start` that basewatch starts and stops.
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from extract.errors import BasewatchError
from flows.settings import Settings

__all__ = ["build_deployments", "local_server", "run_server", "serve_deployments"]

SERVER_START_SECONDS = 90


def build_deployments(settings: Settings) -> list[Any]:
    """Return the ingest and digest deployments with their schedules from the settings.

    Parameters stay empty: each run reads its settings from the BASEWATCH_* environment of the
    serving process, so no secret is stored in Prefect's database.
    """
    from prefect.schedules import Cron

    from flows.digest import digest
    from flows.ingest import ingest

    return [
        ingest.to_deployment(
            name="basewatch-ingest",
            schedule=Cron(settings.ingest_cron, timezone=settings.timezone),
            description="Poll every source and store new articles, events and incidents.",
            tags=["basewatch"],
        ),
        digest.to_deployment(
            name="basewatch-digest",
            # A named timezone keeps the daily digest at the same local hour across DST.
            schedule=Cron(settings.digest_cron, timezone=settings.timezone),
            description="Write and send the digest of what is new or updated.",
            tags=["basewatch"],
        ),
    ]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def local_server(log_path: Path) -> Iterator[str]:
    """Start `prefect server start` on 127.0.0.1 (UI included), yield its API URL, stop it."""
    port = _free_port()
    env = {**os.environ, "PREFECT_UI_ENABLED": "true", "PREFECT_SERVER_UI_ENABLED": "true"}
    env.pop("PREFECT_API_URL", None)
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
               "--port", str(port)]  # fmt: skip
    with _server(command, env, port, log_path, "the local Prefect server") as url:
        yield url


@contextmanager
def run_server(log_path: Path, meanwhile: Callable[[], None] | None = None) -> Iterator[str]:
    """Start the temporary API server that Prefect would start for a flow run, but in its own
    session, and yield its API URL. ``meanwhile`` runs while the server starts (it takes
    seconds): work that does not need the server, such as importing the flow.

    Prefect's own temporary server shares the terminal's process group, so a Ctrl-C stops it
    at once and the interrupted run then hangs, retrying to record that it crashed. In its
    own session it outlives the Ctrl-C for as long as the run needs it.
    """
    import prefect

    port = _free_port()
    env = {
        **os.environ,
        # What prefect.server.api.server.SubprocessASGIServer sets for its temporary server.
        "PREFECT_UI_ENABLED": "0",
        "PREFECT__SERVER_EPHEMERAL": "1",
        "PREFECT__SERVER_FINAL": "1",
    }
    env.pop("PREFECT_API_URL", None)
    command = [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent),
               "--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "error", "--lifespan", "on"]  # fmt: skip
    # Stopped at exit, after Prefect has flushed its logs and events to it (a server stopped
    # earlier leaves that flush retrying).
    with _server(
        command, env, port, log_path, "the temporary Prefect server", True, meanwhile
    ) as url:
        yield url


@contextmanager
def _server(
    command: list[str],
    env: dict[str, str],
    port: int,
    log_path: Path,
    what: str,
    at_exit: bool = False,
    meanwhile: Callable[[], None] | None = None,
) -> Iterator[str]:
    url = f"http://127.0.0.1:{port}/api"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        # Its own session: Ctrl-C reaches basewatch, which then stops the server itself.
        process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            # Before any thread of basewatch runs, so no lock can be held across the fork.
            preexec_fn=_die_with_parent if at_exit and sys.platform == "linux" else None,  # noqa: PLW1509
        )
    if at_exit:
        atexit.register(_stop, process)
    try:
        if meanwhile is not None:
            meanwhile()
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                raise BasewatchError(f"{what} exited; see {log_path}")
            try:
                if httpx.get(f"{url}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass  # not listening yet
            if time.monotonic() > deadline:
                raise BasewatchError(f"{what} did not start; see {log_path}")
            time.sleep(0.2)
    except BaseException:
        _stop(process)
        raise
    try:
        yield url
    finally:
        if not at_exit:
            _stop(process)


def _die_with_parent() -> None:
    """In the server process: be stopped when basewatch dies, even by SIGKILL (Linux), so a
    killed run leaves no server behind."""
    import ctypes

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    # A second Ctrl-C (uv forwards the terminal's signal too) must not cut the shutdown.
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    signal.signal(signal.SIGINT, before)


def serve_deployments(settings: Settings) -> None:
    """Serve the deployments until interrupted; at most one run of each flow at a time."""
    from prefect import serve

    serve(
        *build_deployments(settings),
        pause_on_shutdown=False,
        print_starting_message=False,
        limit=2,
    )
