"""Extension singletons, bound to the app in ``create_app``."""

import sqlite3
from collections.abc import Callable

from flask import Flask, request
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


# Blueprints whose answers are for machines that keep no session and get no page: Twilio's
# signed webhooks. The request hooks that serve pages only (``for_pages_only``) skip their
# requests, and their answers get only the response headers that matter to any client
# (security.py).
MACHINE_BLUEPRINTS = frozenset({"sms"})


def for_pages_only(app: Flask, *init_apps: Callable[[Flask], None]) -> None:
    """Each ``init_app(app)``, an extension's, whose app-wide request hooks serve pages only
    (a CSRF check, a remember-me cookie, rate limits): a request of a ``MACHINE_BLUEPRINTS``
    blueprint skips all the hooks they add, in one check; every other request runs them as
    before, in the order Flask would.

    Such hooks run on every request only to find that nothing applies to a webhook (an
    exempt blueprint, no cookie): Flask-Limiter's three alone were more than a tenth of what
    an SMS webhook cost then (README, "SMS webhook under load"). Each kind of hook the
    extensions add becomes one hook, so Flask also looks each up (``ensure_sync``) once."""
    hook_lists = {
        "before": app.before_request_funcs[None],
        "after": app.after_request_funcs[None],
        "teardown": app.teardown_request_funcs[None],
    }
    known = {kind: len(hooks) for kind, hooks in hook_lists.items()}
    for init_app in init_apps:
        init_app(app)
    for kind, hooks in hook_lists.items():
        added = [app.ensure_sync(hook) for hook in hooks[known[kind] :]]
        if added:
            hooks[known[kind] :] = [_PAGE_HOOKS[kind](added)]


def _for_pages(run: Callable, hands_on: bool) -> Callable:
    """``run``, unless the request is a machine's (``hands_on``: then hand its one argument,
    the response, back unchanged)."""

    def hook(*args):
        # (``request`` once, not through its proxy: each use of a proxy costs a microsecond)
        if request._get_current_object().blueprint in MACHINE_BLUEPRINTS:
            return args[0] if hands_on else None
        return run(*args)

    return hook


def _before_hooks(hooks: list[Callable]) -> Callable:
    def run():
        for hook in hooks:  # as Flask runs them: the first to answer ends the request
            answer = hook()
            if answer is not None:
                return answer
        return None

    return _for_pages(run, hands_on=False)


def _after_hooks(hooks: list[Callable]) -> Callable:
    def run(response):
        for hook in reversed(hooks):  # as Flask runs them: the last added first
            response = hook(response)
        return response

    return _for_pages(run, hands_on=True)


def _teardown_hooks(hooks: list[Callable]) -> Callable:
    def run(error):
        for hook in reversed(hooks):  # as Flask runs them
            hook(error)

    return _for_pages(run, hands_on=False)


_PAGE_HOOKS = {"before": _before_hooks, "after": _after_hooks, "teardown": _teardown_hooks}


# The client address comes from ProxyFix (TRUSTED_PROXIES), never from raw headers.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


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
