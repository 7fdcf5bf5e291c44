"""Email (webapp/mail.py): settings, the local outbox, and SMTP against a small local fake."""

from __future__ import annotations

import email
import email.policy
import socketserver
import threading
from collections.abc import Iterator

import pytest

from webapp.config import ConfigError, Settings
from webapp.mail import MailError, SmtpMailBackend, send_email

DEV = {"APP_ENV": "development"}


@pytest.mark.parametrize(
    ("values", "error"),
    [
        ({"MAIL_BACKEND": "carrier-pigeon"}, "MAIL_BACKEND"),
        ({"MAIL_BACKEND": "smtp"}, "MAIL_SMTP_URL"),
        ({"MAIL_SMTP_URL": "http://mail.example.gov"}, "MAIL_SMTP_URL"),
        ({"MAIL_SMTP_URL": "smtps://mail.example.gov"}, "MAIL_FROM"),
        ({"MAIL_FROM": "nobody"}, "MAIL_FROM"),
        ({"TIMEZONE": "Mars/Olympus_Mons"}, "TIMEZONE"),
    ],
)
def test_bad_mail_and_time_zone_settings_stop_the_app(values, error):
    with pytest.raises(ConfigError, match=error):
        Settings.from_env({**DEV, **values})


def test_the_backend_follows_the_smtp_url():
    assert Settings.from_env(DEV).mail_backend == "outbox"
    settings = Settings.from_env(
        {**DEV, "MAIL_SMTP_URL": "smtps://u:secret@mail.example.gov", "MAIL_FROM": "a@b.gov"}
    )
    assert settings.mail_backend == "smtp"
    assert "secret" not in repr(settings)


class _FakeSmtp(socketserver.StreamRequestHandler):
    """Just enough SMTP (no TLS, no AUTH) to accept one message."""

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 fake ESMTP")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ")[0].upper()
            if verb == "EHLO":
                self.reply("250-fake")
                self.reply("250 8BITMIME")
            elif verb == "DATA":
                self.reply("354 go on")
                data = b""
                while (chunk := self.rfile.readline()) != b".\r\n":
                    data += chunk
                self.server.received.append(data)
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 ok")


@pytest.fixture
def fake_smtp() -> Iterator[socketserver.TCPServer]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _FakeSmtp)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_smtp_sends_through_a_relay(make_app, fake_smtp):
    port = fake_smtp.server_address[1]
    app = make_app(MAIL_SMTP_URL=f"smtp+insecure://127.0.0.1:{port}",
                   MAIL_FROM="Registry <no-reply@registry.example.gov>")  # fmt: skip
    with app.app_context():
        send_email("owner@example.com", "Hello", "Día bueno", language="es", kind="test")
    [raw] = fake_smtp.received
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["To"] == "owner@example.com" and message["Content-Language"] == "es"
    assert message.get_content().strip() == "Día bueno"


def test_smtp_refuses_to_go_on_without_starttls(fake_smtp):
    port = fake_smtp.server_address[1]
    backend = SmtpMailBackend(f"smtp://user:pw@127.0.0.1:{port}")
    message = email.message.EmailMessage()
    message["To"] = "owner@example.com"
    message.set_content("x")
    with pytest.raises(MailError):
        backend.send(message)  # the fake offers no STARTTLS: no password sent in the clear
    assert fake_smtp.received == []
