"""The error tree every basewatch package raises (kept here: extract imports nothing else).

BasewatchError
 +-- ConfigError     bad setting, sources file or command-line input
 +-- InputError      a file or value given by the user that cannot be read
 +-- FeedError       a feed that is not valid RSS/Atom
 +-- FetchError      an HTTP fetch that failed for good (404, refused URL, too large)
 |    +-- TransientFetchError  worth retrying (timeout, connection error, 5xx, 429)
 +-- StoreError      the database cannot be opened or migrated
 +-- DeliveryError   an email could not be written or sent
 +-- NotSubscribedError  no active subscriber has that address
 +-- TokenError      a signed link that is forged, expired or for another purpose
"""

from __future__ import annotations

__all__ = [
    "BasewatchError",
    "ConfigError",
    "DeliveryError",
    "FeedError",
    "FetchError",
    "InputError",
    "NotSubscribedError",
    "StoreError",
    "TokenError",
    "TransientFetchError",
]


class BasewatchError(Exception):
    """Base of every error basewatch raises on purpose; the message is one line."""


class ConfigError(BasewatchError):
    """A setting, sources file or flag value is missing or invalid."""


class InputError(BasewatchError):
    """A file or value given by the user cannot be read."""


class FeedError(BasewatchError):
    """A feed could not be parsed as RSS or Atom."""


class FetchError(BasewatchError):
    """An HTTP fetch failed and retrying will not help."""


class TransientFetchError(FetchError):
    """An HTTP fetch failed in a way that may pass: retry it."""


class StoreError(BasewatchError):
    """The database could not be opened, migrated or written."""


class DeliveryError(BasewatchError):
    """An email could not be written to the outbox or sent over SMTP."""


class NotSubscribedError(BasewatchError):
    """The address is not an active subscriber."""


class TokenError(BasewatchError):
    """A signed token is malformed, forged, expired or made for another purpose."""
