"""Extension singletons, bound to the app in ``create_app``."""

import sqlite3
from collections.abc import Callable
from functools import wraps

from flask import Blueprint, Flask, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Named constraints keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class RateLimiter(Limiter):
    """Flask-Limiter, with blueprints that it never sees at all (``unlimited``).

    Flask-Limiter runs three hooks on every request, exempt or not, only to find that no limit
    applies to an exempt one: about 0.5 million instructions, more than a tenth of what an SMS
    webhook cost then (README, "SMS webhook under load"). A blueprint declared ``unlimited``
    is exempt, and its requests skip those hooks; every other request runs them as before.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.unlimited_blueprints: set[str] = set()

    def unlimited(self, blueprint: Blueprint) -> None:
        self.exempt(blueprint)
        self.unlimited_blueprints.add(blueprint.name)

    def init_app(self, app: Flask) -> None:
        hook_lists = [  # (Flask's hooks for every request, whether a hook hands on its input)
            (app.before_request_funcs[None], False),
            (app.after_request_funcs[None], True),
            (app.teardown_request_funcs[None], False),
        ]
        known = [len(hooks) for hooks, _ in hook_lists]
        super().init_app(app)
        for (hooks, hands_on), first_added in zip(hook_lists, known, strict=True):
            hooks[first_added:] = [self._unless_unlimited(h, hands_on) for h in hooks[first_added:]]

    def _unless_unlimited(self, hook: Callable, hands_on: bool) -> Callable:
        unlimited = self.unlimited_blueprints

        @wraps(hook)
        def unless_unlimited(*args):
            if request._get_current_object().blueprint in unlimited:  # (quicker than the proxy's)
                return args[0] if hands_on else None
            return hook(*args)

        return unless_unlimited


# The client address comes from ProxyFix (TRUSTED_PROXIES), never from raw headers.
limiter = RateLimiter(key_func=get_remote_address, default_limits=[])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """SQLite ignores foreign keys (and so ON DELETE CASCADE) unless asked, per connection.
    WAL lets readers go on while one request writes; synchronous stays FULL (the default),
    so a committed text survives a power cut."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.close()
