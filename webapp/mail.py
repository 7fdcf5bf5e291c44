"""Sending email, behind one small interface (like the SMS backends).

``outbox`` (the default) writes each email as an ``.eml`` file in ``MAIL_OUTBOX_DIR``
(``instance/mail-outbox``), so development and tests need no mail server; ``smtp`` hands it to
the server named by ``MAIL_SMTP_URL``:

- ``smtps://user:password@host:465``: TLS from the start;
- ``smtp://user:password@host:587``: STARTTLS, required (credentials never go in the clear);
- ``smtp+insecure://localhost:25``: no TLS, only for a relay on the same host.

Email is not transactional like the SMS queue: callers send after their change is committed,
and a failure is theirs to log. Addresses and bodies are never logged.
"""

from __future__ import annotations

import logging
import os
import secrets
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app

log = logging.getLogger(__name__)

SMTP_TIMEOUT = 10  # seconds; the officer's page waits for it


class MailError(Exception):
    """The email could not be handed over."""


class MailBackend(Protocol):
    name: str

    def send(self, message: EmailMessage) -> None:
        """Hand ``message`` over, or raise ``MailError``."""


class OutboxMailBackend:
    """Keeps every email as an ``.eml`` file (write to a temporary name, then rename)."""

    name = "outbox"

    def __init__(self, directory: Path):
        self.directory = directory

    def send(self, message: EmailMessage) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # Names sort in the order the emails were written.
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
            name = f"{stamp}-{secrets.token_hex(4)}.eml"
            temporary = self.directory / f".{name}.tmp"
            temporary.write_bytes(message.as_bytes())
            os.replace(temporary, self.directory / name)
        except OSError as exc:
            raise MailError(type(exc).__name__) from None


class SmtpMailBackend:
    name = "smtp"

    def __init__(self, url: str):
        parts = urlsplit(url)
        self.scheme = parts.scheme
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.scheme == "smtps" else 587)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        try:
            if self.scheme == "smtps":
                server = smtplib.SMTP_SSL(
                    self.host, self.port, timeout=SMTP_TIMEOUT, context=context
                )
            else:
                server = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT)
            with server:
                if self.scheme == "smtp":
                    server.starttls(context=context)  # raises when the server does not offer it
                if self.username:
                    server.login(self.username, self.password or "")
                server.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise MailError(type(exc).__name__) from None


def init_mail(app: Flask) -> None:
    if app.config["MAIL_BACKEND"] == "smtp":
        backend: MailBackend = SmtpMailBackend(app.config["MAIL_SMTP_URL"])
    else:
        directory = app.config["MAIL_OUTBOX_DIR"] or Path(app.instance_path) / "mail-outbox"
        backend = OutboxMailBackend(Path(directory))
    app.extensions["mail_backend"] = backend


def sender() -> str:
    configured = current_app.config["MAIL_FROM"]
    if configured:
        return configured
    return formataddr((current_app.config["PROGRAM_NAME"], "no-reply@localhost"))


def send_email(to: str, subject: str, body: str, *, language: str, kind: str) -> None:
    """Send a plain-text email now; raises ``MailError``. ``kind`` names it in the logs."""
    message = EmailMessage()
    message["From"] = sender()
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender().rpartition("@")[2].strip("> ") or None)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(body)  # clears any Content-* header set before it
    message["Content-Language"] = language.replace("_", "-")
    backend: MailBackend = current_app.extensions["mail_backend"]
    backend.send(message)
    log.info("email %s sent through %s", kind, backend.name)
