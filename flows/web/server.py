"""Serve the web app with uvicorn, quietly: a socket bound first (a taken port is one error
line), uvicorn's own logging left to the CLI's handler, the access log off unless asked for."""

from __future__ import annotations

import logging
import socket
from typing import Any

from extract.errors import BasewatchError, ConfigError

__all__ = ["bind", "make_server", "url_of"]


def bind(host: str, port: int) -> socket.socket:
    """Return a listening socket on host:port (port 0: any free one).

    ConfigError for a host that is no address here, BasewatchError if the port is taken.
    """
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ConfigError(
            f"--host {host}: not an address of this machine ({exc.strerror})"
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise BasewatchError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """Return http://host:port of a bound socket."""
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def make_server(app: Any, access_log: bool = False) -> Any:
    """Return a uvicorn Server for the app; run it with ``server.run(sockets=[sock])``.

    No lifespan (the app has no startup work), no Server/Date headers, uvicorn's loggers at
    WARNING, and with ``access_log`` one line per request on the CLI's handler.
    """
    import uvicorn

    config = uvicorn.Config(
        app,
        log_config=None,
        log_level="warning",
        access_log=access_log,
        lifespan="off",
        server_header=False,
        proxy_headers=False,
        timeout_graceful_shutdown=5,
    )
    if access_log:
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    return uvicorn.Server(config)
