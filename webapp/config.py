"""Typed settings read from the environment, validated before the app starts.

Every variable is documented in docs/operations.md ("Configuration"). ``Settings.from_env`` reads
them; ``create_app(config)`` may override any of them with a mapping (the tests do).
Production refuses to start without a real secret key or with debug on.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url

from .crypto import parse_keys
from .phones import InvalidPhoneNumber, to_e164

ENVIRONMENTS = ("production", "development", "testing")
SMTP_SCHEMES = ("smtp", "smtps", "smtp+insecure")


class ConfigError(RuntimeError):
    """The configuration cannot run safely; the message says which variable to fix."""


def _bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain ``postgres://`` and ``postgresql://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Settings:
    APP_ENV: str = "production"
    SECRET_KEY: str = ""
    DEBUG: bool = False
    DATABASE_URL: str = ""
    PUBLIC_BASE_URL: str = ""
    SMS_BACKEND: str = ""  # "twilio" or "outbox"; empty picks twilio when credentials are set
    SMS_DEFAULT_REGION: str = "US"
    TWILIO_ACCOUNT_SID: str = ""
    TWILIO_AUTH_TOKEN: str = field(default="", repr=False)
    TWILIO_FROM_NUMBER: str = ""
    TWILIO_MESSAGING_SERVICE_SID: str = ""
    TWILIO_API_BASE_URL: str = ""  # only for a local fake of Twilio's API
    ENCRYPTION_KEYS: str = field(default="", repr=False)  # comma-separated; first encrypts
    SMS_SPOOL_DIR: str = ""  # texts received while the database is down; instance/ by default
    RATELIMIT_STORAGE_URI: str = "memory://"
    RATELIMIT_ENABLED: bool = True
    TRUSTED_PROXIES: int = 0
    DEFAULT_LOCALE: str = "en"
    PROGRAM_NAME: str = "Safety Registry"
    DEFAULT_CITY: str = "Chicago"
    DEFAULT_STATE: str = "IL"
    LOG_LEVEL: str = "INFO"
    GEOCODER: str = "manual"  # "manual" (moderators enter coordinates) or "nominatim"
    GEOCODER_URL: str = ""  # the Nominatim server, e.g. https://nominatim.openstreetmap.org
    GEOCODER_USER_AGENT: str = "safety-registry"
    GEOCODER_TIMEOUT: float = 3.0
    TIMEZONE: str = "UTC"  # the city's time zone (IANA name): times people type and read
    MAIL_BACKEND: str = ""  # "smtp" or "outbox"; empty picks smtp when MAIL_SMTP_URL is set
    MAIL_SMTP_URL: str = field(default="", repr=False)  # may hold a password
    MAIL_FROM: str = ""  # e.g. "Safety Registry <no-reply@registry.city.gov>"
    MAIL_OUTBOX_DIR: str = ""  # where the outbox backend writes .eml files; instance/ by default
    POLICE_MAX_RADIUS_M: int = 2000  # the widest camera search an officer may run, in metres
    EMERGENCY_CLAIM_TIMEOUT: int = 60  # seconds an emergency text may wait unclaimed
    SUPERVISOR_PHONES: str = ""  # comma-separated E.164 numbers alerted when one waits too long
    DISPATCH_AGENCY: str = "911"  # agency recorded for look-ups made on the dispatch console
    DATABASE_TIMEOUT: int = 8  # seconds any database work may wait (see _engine_options)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            if f.name in environ:
                values[f.name] = environ[f.name]
        return cls.build(values)

    @classmethod
    def build(cls, values: Mapping[str, Any]) -> Settings:
        typed: dict[str, Any] = {}
        names = {f.name: f for f in fields(cls)}
        for key, raw in values.items():
            if key not in names:
                continue
            default = names[key].default
            try:
                if isinstance(default, bool):
                    typed[key] = _bool(raw)
                elif isinstance(default, int):
                    typed[key] = int(raw)
                elif isinstance(default, float):
                    typed[key] = float(raw)
                else:
                    typed[key] = str(raw).strip()
            except ValueError as exc:
                raise ConfigError(f"{key}: {exc}") from None
        settings = cls(**typed)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.APP_ENV not in ENVIRONMENTS:
            raise ConfigError(f"APP_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if self.APP_ENV == "production":
            if len(self.SECRET_KEY) < 32:
                raise ConfigError(
                    "SECRET_KEY must be set to a random value of at least 32 characters in "
                    'production (python -c "import secrets; print(secrets.token_hex(32))")'
                )
            if self.DEBUG:
                raise ConfigError("DEBUG must be off in production")
            if not self.ENCRYPTION_KEYS:
                raise ConfigError(
                    "ENCRYPTION_KEYS must be set in production "
                    "(flask --app wsgi keys generate prints a new key)"
                )
        try:
            parse_keys(self.ENCRYPTION_KEYS)
        except ValueError as exc:
            raise ConfigError(f"ENCRYPTION_KEYS: {exc}") from None
        if self.SMS_BACKEND not in ("", "twilio", "outbox"):
            raise ConfigError("SMS_BACKEND must be 'twilio' or 'outbox'")
        if self.sms_backend == "twilio":
            if not (self.TWILIO_ACCOUNT_SID and self.TWILIO_AUTH_TOKEN):
                raise ConfigError(
                    "SMS_BACKEND=twilio needs TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN"
                )
            if not (self.TWILIO_FROM_NUMBER or self.TWILIO_MESSAGING_SERVICE_SID):
                raise ConfigError(
                    "SMS_BACKEND=twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID"
                )
        if self.GEOCODER not in ("manual", "nominatim"):
            raise ConfigError("GEOCODER must be 'manual' or 'nominatim'")
        if self.GEOCODER == "nominatim" and not self.GEOCODER_URL.startswith(
            ("https://", "http://")
        ):
            raise ConfigError("GEOCODER=nominatim needs GEOCODER_URL (https://...)")
        if not 10 <= self.POLICE_MAX_RADIUS_M <= 20_000:
            # The police map is a flat projection around the incident: fine at city scale.
            raise ConfigError("POLICE_MAX_RADIUS_M must be from 10 to 20000 (metres)")
        try:
            ZoneInfo(self.TIMEZONE)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                "TIMEZONE must be an IANA time zone name, like America/Chicago"
            ) from None
        if not 1 <= self.DATABASE_TIMEOUT <= 12:
            # Above 12 s the SMS webhook could not answer inside Twilio's 15 s.
            raise ConfigError("DATABASE_TIMEOUT must be from 1 to 12 (seconds)")
        if not self.DISPATCH_AGENCY or len(self.DISPATCH_AGENCY) > 80:
            raise ConfigError("DISPATCH_AGENCY must be 1 to 80 characters, like OEMC Chicago")
        self._validate_mail()
        self._validate_emergency()
        if self.TRUSTED_PROXIES < 0:
            raise ConfigError("TRUSTED_PROXIES must be 0 or more")
        if self.PUBLIC_BASE_URL and not self.PUBLIC_BASE_URL.startswith(("https://", "http://")):
            raise ConfigError("PUBLIC_BASE_URL must start with https:// (or http:// locally)")

    def _validate_mail(self) -> None:
        if self.MAIL_BACKEND not in ("", "smtp", "outbox"):
            raise ConfigError("MAIL_BACKEND must be 'smtp' or 'outbox'")
        if self.MAIL_SMTP_URL and urlsplit(self.MAIL_SMTP_URL).scheme not in SMTP_SCHEMES:
            raise ConfigError(
                "MAIL_SMTP_URL must start with smtp:// (STARTTLS), smtps:// (TLS) or "
                "smtp+insecure:// (a relay on this host, no TLS)"
            )
        if self.mail_backend == "smtp":
            if not self.MAIL_SMTP_URL:
                raise ConfigError("MAIL_BACKEND=smtp needs MAIL_SMTP_URL")
            if not self.MAIL_FROM:
                raise ConfigError("MAIL_BACKEND=smtp needs MAIL_FROM")
        if self.MAIL_FROM and "@" not in self.MAIL_FROM:
            raise ConfigError("MAIL_FROM must be an email address")

    def _validate_emergency(self) -> None:
        if not 10 <= self.EMERGENCY_CLAIM_TIMEOUT <= 900:
            raise ConfigError("EMERGENCY_CLAIM_TIMEOUT must be from 10 to 900 (seconds)")
        for phone in self.supervisor_phones:
            try:
                valid = to_e164(phone, "ZZ") == phone
            except InvalidPhoneNumber:
                valid = False
            if not valid:
                raise ConfigError(
                    "SUPERVISOR_PHONES must be phone numbers in E.164 separated by commas, "
                    "like +13125550100,+13125550101"
                )

    @property
    def supervisor_phones(self) -> tuple[str, ...]:
        return tuple(p.strip() for p in self.SUPERVISOR_PHONES.split(",") if p.strip())

    @property
    def mail_backend(self) -> str:
        if self.MAIL_BACKEND:
            return self.MAIL_BACKEND
        return "smtp" if self.MAIL_SMTP_URL else "outbox"

    @property
    def sms_backend(self) -> str:
        if self.SMS_BACKEND:
            return self.SMS_BACKEND
        return "twilio" if self.TWILIO_ACCOUNT_SID and self.TWILIO_AUTH_TOKEN else "outbox"

    def flask_config(self, instance_path: str) -> dict[str, Any]:
        """The Flask/extension keys derived from these settings."""
        production = self.APP_ENV == "production"
        secret = self.SECRET_KEY or _instance_secret(instance_path)
        database_url = self.DATABASE_URL or "sqlite:///" + str(
            Path(instance_path) / "safety-registry.sqlite3"
        )
        return {
            **asdict(self),
            "SMS_BACKEND": self.sms_backend,
            "MAIL_BACKEND": self.mail_backend,
            "SUPERVISOR_PHONES": self.supervisor_phones,
            "SECRET_KEY": secret,
            "DEBUG": self.DEBUG,
            "TESTING": self.APP_ENV == "testing",
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
            "SQLALCHEMY_ENGINE_OPTIONS": _engine_options(database_url, self.DATABASE_TIMEOUT),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": production,
            "SESSION_COOKIE_NAME": "__Host-session" if production else "session",
            "PERMANENT_SESSION_LIFETIME": 12 * 3600,
            "REMEMBER_COOKIE_HTTPONLY": True,
            "REMEMBER_COOKIE_SECURE": production,
            "WTF_CSRF_TIME_LIMIT": 3600 * 4,
            "BABEL_DEFAULT_LOCALE": self.DEFAULT_LOCALE,
            "BABEL_DEFAULT_TIMEZONE": self.TIMEZONE,
            "RATELIMIT_HEADERS_ENABLED": True,
            "MAX_CONTENT_LENGTH": 256 * 1024,
            # werkzeug's scrypt; not an environment setting (the tests pass a cheaper one).
            "PASSWORD_HASH_METHOD": "scrypt",
        }


# A database server that is gone is found sooner than DATABASE_TIMEOUT: a new connection
# gives up after CONNECT_TIMEOUT_S, a statement on a pooled one after NETWORK_TIMEOUT_MS
# without an acknowledgement (its host lost power, the network to it is cut).
CONNECT_TIMEOUT_S = 2
NETWORK_TIMEOUT_MS = 3000


def _engine_options(database_url: str, timeout: int) -> dict[str, Any]:
    """The one deadline for database work, ``timeout`` seconds (DATABASE_TIMEOUT): a
    statement (a lock wait included) or a wait for a pooled connection gives up after it.
    Long enough that a busy but healthy database is never taken for a dead one (a burst of
    texts queueing for one number's lock, say); short enough that the SMS webhook still
    answers inside Twilio's 15 s, spooling the text, when the database really is stuck."""
    if not database_url.startswith(("postgres://", "postgresql")):
        # SQLite (development, tests, one process): a writer waits this long for the lock.
        return {"connect_args": {"timeout": timeout}}
    # Server options in the URL come after ours, so an operator's own settings there win.
    server_options = make_url(database_url).query.get("options", "")
    wait_ms = timeout * 1000
    return {
        "pool_pre_ping": True,  # a connection the server closed (a restart) is replaced
        "pool_timeout": timeout,
        "connect_args": {
            "connect_timeout": CONNECT_TIMEOUT_S,
            "tcp_user_timeout": NETWORK_TIMEOUT_MS,
            "options": f"-c statement_timeout={wait_ms} {server_options}".strip(),
        },
    }


def _instance_secret(instance_path: str) -> str:
    """A development/testing key kept in the instance folder so sessions survive restarts."""
    path = Path(instance_path) / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
