"""Signed, expiring tokens for the links in mail (unsubscribe, preferences, confirm).

A token carries the subscriber's address (or, with sign_payload, a small dict such as the
address and the preferences a confirmation link subscribes with), is signed with the secret key (itsdangerous, HMAC)
and salted with its purpose, so an unsubscribe token cannot be used to change preferences.
The key is BASEWATCH_SECRET_KEY, else a random key made once and kept in
``<data_dir>/secret.key`` (mode 0600).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from extract.errors import ConfigError, TokenError
from flows.settings import Settings

__all__ = [
    "LINK_PATHS",
    "PURPOSES",
    "TokenError",
    "read_payload",
    "read_token",
    "secret_key",
    "sign_payload",
    "sign_token",
    "signed_link",
]

PURPOSES = ("unsubscribe", "preferences", "confirm")
# Paths served by `basewatch web`; mail links point there.
LINK_PATHS = {"unsubscribe": "/unsubscribe", "preferences": "/preferences", "confirm": "/confirm"}
KEY_FILE = "secret.key"


def _serializer(purpose: str, secret: str) -> URLSafeTimedSerializer:
    if purpose not in PURPOSES:
        raise TokenError(f"unknown token purpose {purpose!r}")
    if not secret:
        raise ConfigError("BASEWATCH_SECRET_KEY: empty secret key")
    return URLSafeTimedSerializer(secret, salt=f"basewatch-{purpose}")


def sign_token(email: str, purpose: str, secret: str) -> str:
    """Return a URL-safe token that proves ``email`` for ``purpose`` (checked by read_token)."""
    return _serializer(purpose, secret).dumps(email)


def sign_payload(payload: dict[str, Any], purpose: str, secret: str) -> str:
    """Return a URL-safe token carrying ``payload`` (JSON values) for ``purpose``."""
    return _serializer(purpose, secret).dumps(payload)


def _loads(token: str, purpose: str, secret: str, max_age: float) -> object:
    serializer = _serializer(purpose, secret)
    try:
        return serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError(f"{purpose} link has expired; ask for a new one") from None
    except BadSignature:
        raise TokenError(f"{purpose} link is not valid") from None


def read_token(token: str, purpose: str, secret: str, max_age: float) -> str:
    """Return the address a token was signed for; TokenError if forged, expired or misused.

    ``max_age`` is in seconds.
    """
    email = _loads(token, purpose, secret, max_age)
    if not isinstance(email, str):
        raise TokenError(f"{purpose} link is not valid")
    return email


def read_payload(token: str, purpose: str, secret: str, max_age: float) -> dict[str, Any]:
    """Return the dict a sign_payload token carries; TokenError if forged, expired or misused
    (an address-only token of sign_token is refused too)."""
    payload = _loads(token, purpose, secret, max_age)
    if not isinstance(payload, dict):
        raise TokenError(f"{purpose} link is not valid")
    return payload


def _key_from_file(path: Path) -> str:
    """Return the key kept in path, creating it (mode 0600) if there is none yet."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: two processes starting at once make one key; the loser reads it.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text(encoding="utf-8").strip()
            if not key:
                raise ConfigError(f"{path}: empty secret key file (delete it to make a new one)")
            return key
        key = secrets.token_urlsafe(32)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(key + "\n")
        return key
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read or create the secret key ({exc.strerror})") from exc


def secret_key(settings: Settings) -> str:
    """Return BASEWATCH_SECRET_KEY, else the key kept in <data_dir>/secret.key."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    return _key_from_file(settings.data_dir / KEY_FILE)


def signed_link(settings: Settings, email: str, purpose: str, secret: str | None = None) -> str:
    """Return ``{base_url}/{path}?token=...`` for the address and purpose."""
    token = sign_token(email, purpose, secret or secret_key(settings))
    base = settings.base_url.rstrip("/")
    return f"{base}{LINK_PATHS[purpose]}?{urlencode({'token': token})}"
