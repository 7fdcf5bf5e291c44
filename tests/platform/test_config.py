"""Configuration: typed, validated at start-up, safe in production."""

from __future__ import annotations

import os
import re

import pytest

from webapp import create_app
from webapp.config import ConfigError, Settings

from ..support import ROOT

GOOD_SECRET = "s" * 40


def test_production_refuses_to_start_without_a_secret_key():
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"APP_ENV": "production"})
    with pytest.raises(ConfigError, match="SECRET_KEY"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "too-short"})


def test_production_refuses_to_start_with_debug_on():
    with pytest.raises(ConfigError, match="DEBUG"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": GOOD_SECRET, "DEBUG": "1"})


def test_production_is_the_default_environment(monkeypatch):
    for name in ("APP_ENV", "SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError):
        create_app()


def test_values_are_typed_and_checked():
    settings = Settings.from_env(
        {"APP_ENV": "development", "TRUSTED_PROXIES": "2", "RATELIMIT_ENABLED": "false"}
    )
    assert settings.TRUSTED_PROXIES == 2
    assert settings.RATELIMIT_ENABLED is False
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        Settings.from_env({"APP_ENV": "development", "TRUSTED_PROXIES": "two"})
    with pytest.raises(ConfigError, match="APP_ENV"):
        Settings.from_env({"APP_ENV": "staging"})
    with pytest.raises(ConfigError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"APP_ENV": "development", "PUBLIC_BASE_URL": "registry.example"})
    with pytest.raises(ConfigError, match="SMS_BACKEND"):
        Settings.from_env({"APP_ENV": "development", "SMS_BACKEND": "carrier-pigeon"})


def test_database_defaults_to_sqlite_in_the_instance_folder(tmp_path):
    config = Settings.from_env({"APP_ENV": "development"}).flask_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/safety-registry.sqlite3"
    assert len(config["SECRET_KEY"]) >= 32  # a development key kept in the instance folder
    assert (tmp_path / "secret_key").read_text() == config["SECRET_KEY"]


def test_postgres_urls_use_psycopg3(tmp_path):
    settings = Settings.from_env(
        {"APP_ENV": "development", "DATABASE_URL": "postgres://u@db.example/registry"}
    )
    uri = settings.flask_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"]
    assert uri == "postgresql+psycopg://u@db.example/registry"


def test_the_auth_token_is_not_in_the_settings_repr():
    settings = Settings.from_env(
        {
            "APP_ENV": "development",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "super-secret-token",
            "TWILIO_FROM_NUMBER": "+13125550100",
        }
    )
    assert "super-secret-token" not in repr(settings)
    assert settings.sms_backend == "twilio"


def run_wsgi(tmp_path, code: str, **env_values: str):
    """``code`` in a new interpreter that imports ``wsgi`` as gunicorn's workers do."""
    import subprocess
    import sys

    from webapp.crypto import generate_key

    root = ROOT
    env = {
        "PATH": os.environ.get("PATH", ""),
        "APP_ENV": "development",
        "SECRET_KEY": "x" * 64,
        "ENCRYPTION_KEYS": generate_key(),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        **env_values,
    }
    return subprocess.run([sys.executable, "-c", code], cwd=root, env=env, check=True,
                          capture_output=True, text=True)  # fmt: skip


def test_the_apps_log_goes_to_stderr_with_time_and_level(tmp_path):
    """Under gunicorn nothing configures logging: the app's records must still be written,
    each with its level, down to ``LOG_LEVEL`` (Python alone drops INFO and prints the rest
    bare)."""
    code = (
        "import logging, wsgi; log = logging.getLogger('webapp.sms_inbound.spool');"
        "log.debug('not at this level'); log.info('imported 3'); log.error('spooled')"
    )
    lines = run_wsgi(tmp_path, code, LOG_LEVEL="info").stderr.splitlines()
    assert [line.split("] ", 1)[1] for line in lines] == [
        "INFO webapp.sms_inbound.spool: imported 3",
        "ERROR webapp.sms_inbound.spool: spooled",
    ]
    assert all(re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}\] ", line) for line in lines)

    # A process that configured logging itself (a command, an operator's dictConfig) keeps
    # its own handlers: the app adds none.
    code = (
        "import logging, sys; logging.basicConfig(stream=sys.stderr, format='%(message)s');"
        "import wsgi; logging.getLogger('webapp.x').warning('once')"
    )
    assert run_wsgi(tmp_path, code).stderr.splitlines() == ["once"]
