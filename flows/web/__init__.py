"""The basewatch web app (Starlette): `basewatch web` serves it with uvicorn."""

from flows.web.app import create_app

__all__ = ["create_app"]
