"""Where mail goes (outbox or SMTP, from the settings), and the ops alert about a failing source."""

from __future__ import annotations

import logging
from datetime import datetime

from extract.errors import DeliveryError
from flows.settings import Settings
from reports.deliver import Outbox, SmtpConfig, SmtpSender, build_message
from reports.render import render_source_alert

__all__ = ["mail_sender", "send_source_alert"]

logger = logging.getLogger(__name__)


def mail_sender(settings: Settings) -> Outbox | SmtpSender:
    """Return the SMTP sender when BASEWATCH_SMTP_HOST is set, else the .eml outbox."""
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpSender(
            SmtpConfig(
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_security,
                settings.smtp_user,
                password,
                settings.smtp_timeout,
            )
        )
    return Outbox(settings.outbox_dir)


def send_source_alert(
    settings: Settings, kind: str, source: str, error: str | None, since: datetime | None
) -> bool:
    """Mail ops that a source is failing ("alert") or works again ("recovered").

    Returns False (with a warning) when no BASEWATCH_OPS_EMAIL is set or sending fails: the
    run goes on either way.
    """
    if not settings.ops_email:
        logger.warning(
            "source %s: %s (set BASEWATCH_OPS_EMAIL to be mailed about it)",
            source,
            f"failing since {since}" if kind == "alert" else "works again",
        )
        return False
    rendered = render_source_alert(kind, source, error, since)
    message = build_message(rendered, sender=settings.mail_from, to=settings.ops_email)
    sender = mail_sender(settings)
    try:
        sender.send(message, settings.ops_email, 0)
    except DeliveryError as exc:
        logger.warning("source %s: ops alert not sent: %s", source, exc)
        return False
    finally:
        sender.close()
    return True
