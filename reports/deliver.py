"""Delivery: build the multipart email, write it to the .eml outbox or send it over SMTP."""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr
from pathlib import Path

from extract.errors import DeliveryError, InputError
from reports.render import RenderedDigest, one_line

__all__ = [
    "Outbox",
    "SmtpConfig",
    "SmtpSender",
    "build_message",
    "message_id",
    "validate_email",
    "write_digest_files",
]

EMAIL_RE = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$"
)


def validate_email(address: str) -> str:
    """Return the address lower-cased at the domain; InputError if it is not a plain address."""
    address = address.strip()
    if not EMAIL_RE.match(address) or parseaddr(address)[1] != address:
        raise InputError(f"not an email address: {address!r}")
    local, domain = address.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def message_id(digest_id: int, email: str) -> str:
    """Return a stable Message-ID for one digest to one subscriber (lets receivers de-dup)."""
    import hashlib

    token = hashlib.sha256(f"{digest_id}:{email}".encode()).hexdigest()[:20]
    return f"<digest-{digest_id}-{token}@basewatch>"


def build_message(
    rendered: RenderedDigest,
    *,
    sender: str,
    to: str | None,
    msg_id: str | None = None,
    date: datetime | None = None,
) -> EmailMessage:
    """Return a multipart/alternative message (text, then HTML); headers are single lines."""
    message = EmailMessage()
    message["Subject"] = one_line(rendered.subject)
    message["From"] = one_line(sender)
    message["To"] = one_line(to) if to else "undisclosed-recipients:;"
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = msg_id or make_msgid(domain="basewatch")
    message["List-Id"] = "basewatch digest <digest.basewatch>"
    message.set_content(rendered.text)
    message.add_alternative(rendered.html, subtype="html")
    return message


def _write_atomic(path: Path, data: bytes) -> None:
    """Write via a temp file and os.replace, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, delete=False, prefix=".tmp-") as handle:
        handle.write(data)
        temp = handle.name
    os.replace(temp, path)


def write_digest_files(
    rendered: RenderedDigest, message: EmailMessage, folder: Path, digest_id: int
) -> Path:
    """Write digest-NNNN.html, .txt and .eml to folder; return the .html path."""
    stem = folder / f"digest-{digest_id:04d}"
    try:
        _write_atomic(stem.with_suffix(".txt"), rendered.text.encode("utf-8"))
        _write_atomic(stem.with_suffix(".eml"), message.as_bytes())
        _write_atomic(stem.with_suffix(".html"), rendered.html.encode("utf-8"))
    except OSError as exc:
        raise DeliveryError(f"cannot write digest files in {folder}: {exc.strerror}") from exc
    return stem.with_suffix(".html")


class Outbox:
    """Delivery to a folder of .eml files (the default: no mail server needed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def where(self) -> str:
        """Return where messages go, for the summary."""
        return str(self.folder)

    def send(self, message: EmailMessage, to: str, digest_id: int) -> None:
        """Write the message as <outbox>/digest-NNNN-<address>.eml."""
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", to)
        try:
            _write_atomic(self.folder / f"digest-{digest_id:04d}-{safe}.eml", message.as_bytes())
        except OSError as exc:
            raise DeliveryError(f"outbox {self.folder}: {exc.strerror}") from exc

    def close(self) -> None:
        """Nothing to close."""


@dataclass(frozen=True)
class SmtpConfig:
    """How to reach the mail server."""

    host: str
    port: int
    security: str  # "starttls" | "ssl" | "none"
    user: str | None
    password: str | None
    timeout: float


class SmtpSender:
    """Delivery over SMTP, one connection per run, opened on first use."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None

    @property
    def where(self) -> str:
        """Return where messages go, for the summary."""
        return f"smtp://{self.config.host}:{self.config.port}"

    def _connect(self) -> smtplib.SMTP:
        c = self.config
        try:
            if c.security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
                )
            else:
                smtp = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
                if c.security == "starttls":
                    smtp.starttls(context=ssl.create_default_context())
            if c.user and c.password:
                smtp.login(c.user, c.password)
            return smtp
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {c.host}:{c.port}: {exc}") from exc

    def send(self, message: EmailMessage, to: str, digest_id: int) -> None:
        """Send the message to one address."""
        del digest_id
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            self._smtp.send_message(message, to_addrs=[to])
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise DeliveryError(f"SMTP {self.config.host}: sending to {to} failed: {exc}") from exc

    def close(self) -> None:
        """Say goodbye to the server."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # the connection is gone either way
            self._smtp = None
