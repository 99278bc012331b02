"""Delivery: build the multipart email, write it to the .eml outbox or send it over SMTP."""

from __future__ import annotations

import email.policy
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
    "ConnectionLostError",
    "Outbox",
    "SmtpConfig",
    "SmtpSender",
    "build_message",
    "message_id",
    "validate_email",
    "write_digest_files",
]

# Headers may be up to 998 characters (RFC 5322): long enough that a List-Unsubscribe URL is
# never folded into encoded words, which mail clients would not read as a URL.
MAIL_POLICY = email.policy.default.clone(max_line_length=998)
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


def message_id(
    digest_id: int | None, email: str, delivery_id: int | None = None, kind: str = "digest"
) -> str:
    """Return a stable Message-ID for one delivery (lets receivers drop a re-sent copy)."""
    import hashlib

    token = hashlib.sha256(f"{digest_id}:{delivery_id}:{email}".encode()).hexdigest()[:20]
    if digest_id is not None and kind == "digest":
        return f"<digest-{digest_id}-{token}@basewatch>"
    return f"<{kind}-d{delivery_id}-{token}@basewatch>"


def _header_url(url: str) -> str | None:
    """Return the URL if it is safe inside <...> in a header (http(s), no spaces or brackets)."""
    url = one_line(url)
    if not re.fullmatch(r"(?:https?|mailto):[^\s<>,\"]+", url, re.IGNORECASE):
        return None
    return url


def build_message(
    rendered: RenderedDigest,
    *,
    sender: str,
    to: str | None,
    msg_id: str | None = None,
    date: datetime | None = None,
    unsubscribe: str | None = None,
    images: dict[str, bytes] | None = None,
) -> EmailMessage:
    """Return the message: text, or multipart/alternative (text, then HTML with its images).

    Headers are single lines. ``unsubscribe`` (a signed https URL) adds RFC 8058 one-click
    List-Unsubscribe and List-Unsubscribe-Post headers, with a mailto: fallback to the sender.
    ``images`` maps Content-IDs (as in the HTML's cid: links) to PNG bytes.
    """
    message = EmailMessage()
    message["Subject"] = one_line(rendered.subject)
    message["From"] = one_line(sender)
    message["To"] = one_line(to) if to else "undisclosed-recipients:;"
    message["Date"] = format_datetime(date or datetime.now(UTC))
    message["Message-ID"] = msg_id or make_msgid(domain="basewatch")
    message["List-Id"] = "basewatch digest <digest.basewatch>"
    link = _header_url(unsubscribe) if unsubscribe else None
    if link:
        targets = [f"<{link}>"]
        mailbox = _header_url(f"mailto:{parseaddr(one_line(sender))[1]}?subject=unsubscribe")
        if mailbox and "@" in mailbox:
            targets.append(f"<{mailbox}>")
        message["List-Unsubscribe"] = ", ".join(targets)
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(rendered.text, cte="quoted-printable")
    if rendered.html:
        message.add_alternative(rendered.html, subtype="html", cte="quoted-printable")
        if images:
            html_part = message.get_payload()[1]
            for cid, data in images.items():
                html_part.add_related(data, "image", "png", cid=f"<{cid}>", disposition="inline")
    # Bodies were encoded above with 76-character lines; only the headers use MAIL_POLICY.
    message.policy = MAIL_POLICY
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

    def send(self, message: EmailMessage, to: str, label: int | str) -> None:
        """Write the message as <outbox>/<label>-<address>.eml (an int label: digest-NNNN)."""
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", to)
        name = f"digest-{label:04d}" if isinstance(label, int) else re.sub(r"[^\w-]", "_", label)
        try:
            _write_atomic(self.folder / f"{name}-{safe}.eml", message.as_bytes())
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


class ConnectionLostError(DeliveryError):
    """The mail server cannot be reached, or dropped the connection and refuses a new one:
    the rest of the batch waits for the next run."""


class SmtpSender:
    """Delivery over SMTP: one connection for the whole batch, opened on first use, and
    opened again once if the server drops it between messages."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._smtp: smtplib.SMTP | None = None
        self.connections = 0  # how many were opened (the benchmark and tests read it)

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
            smtp.ehlo_or_helo_if_needed()
        except (smtplib.SMTPException, OSError) as exc:
            raise ConnectionLostError(f"SMTP {c.host}:{c.port}: {one_line(str(exc))}") from exc
        self.connections += 1
        return smtp

    def _fail(self, to: str, reason: object, lost: bool = False) -> DeliveryError:
        error = ConnectionLostError if lost else DeliveryError
        return error(f"SMTP {self.config.host}: sending to {to} failed: {one_line(str(reason))}")

    def _envelope(self, smtp: smtplib.SMTP, sender: str, to: str) -> None:
        """MAIL and RCPT; raise _Before if the connection went away before any data was sent."""
        code, reply = smtp.mail(sender)
        if code == 421:
            raise _Before(reply)
        if code != 250:
            smtp.rset()
            raise self._fail(to, f"{code} {reply.decode(errors='replace')}")
        code, reply = smtp.rcpt(to)
        if code == 421:
            raise _Before(reply)
        if code not in (250, 251):
            smtp.rset()
            raise self._fail(to, f"{code} {reply.decode(errors='replace')}")

    def send(self, message: EmailMessage, to: str, label: int | str = 0) -> None:
        """Send the message to one address (``label`` is for the outbox only).

        A drop before the message data was sent is safe to retry, so the connection is opened
        again once. A drop while the data was being sent is not (the server may have taken
        it): that delivery fails and is retried by the next run. ConnectionLostError means the
        server cannot be reached: the caller stops the batch.
        """
        del label
        sender = parseaddr(str(message["From"]))[1]
        data = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
        for attempt in (1, 2):
            if self._smtp is None:
                self._smtp = self._connect()
            smtp = self._smtp
            try:
                self._envelope(smtp, sender, to)
            except (_Before, smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                self._drop()
                if attempt == 2:
                    raise self._fail(to, exc, lost=True) from None
                continue
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                raise self._fail(to, exc) from exc
            try:
                code, reply = smtp.data(data)
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                raise self._fail(to, exc) from exc
            if code != 250:
                raise self._fail(to, f"{code} {reply.decode(errors='replace')}")
            return

    def _drop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.close()
            except OSError:
                pass  # already gone
            self._smtp = None

    def close(self) -> None:
        """Say goodbye to the server."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                pass  # the connection is gone either way
            self._smtp = None


class _Before(Exception):
    """The server closed the session (421) before the message data was sent."""
