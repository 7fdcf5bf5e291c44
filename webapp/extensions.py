"""Extension singletons, bound to the app in ``create_app``."""

import logging
import select
import sqlite3
import time

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.orm import DeclarativeBase

log = logging.getLogger(__name__)

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


# A pooled server connection idle for longer than this is pinged before it is handed out.
IDLE_PING_AFTER = 5.0  # seconds
# A ping or a new connection that fails after this long found a server that does not answer
# at all (its host is down, the network to it is cut), not one that closed the connection:
# for the next UNREACHABLE_FOR seconds, new connections fail at once instead of each waiting
# for the connect timeout. The SMS webhook then answers and spools its text without waiting.
SLOW_FAILURE = 0.5  # seconds
UNREACHABLE_FOR = 3.0  # seconds


def watch_liveness(engine: Engine) -> None:
    """Hand out only live server connections (PostgreSQL), without a round trip each time.

    SQLAlchemy's ``pool_pre_ping`` pings on every checkout: one more round trip per request,
    a sixth of the SMS webhook's CPU (README, "SMS webhook under load"). Instead, as other
    pools do (sqlx's idle test, MySqlConnector's ConnectionIdlePingTime), a connection is
    pinged only when it has been idle for ``IDLE_PING_AFTER`` seconds, or when its socket has
    something to read: an idle connection has nothing to read unless the server wrote to it,
    which it does when it closes it (a restart, an administrator ending it). The check is one
    ``poll`` system call. A connection that fails the ping is replaced, and so is every other
    connection in the pool, since a server that ended one has usually ended them all.

    A server that does not answer at all is another matter: a statement on a connection to it
    gives up after the connection's ``tcp_user_timeout`` (config.py), and a new connection
    after about a second. When a ping or a new connection fails that slowly, new connections
    fail at once for ``UNREACHABLE_FOR`` seconds, so that no request spends two such waits
    (a failed ping is followed by a new connection), and a burst of texts is answered at once.
    """
    dialect = engine.dialect
    if dialect.name == "sqlite":  # a file, nothing to lose and nothing to wait for
        return
    unreachable_until = 0.0

    def note_failure(started: float) -> None:
        nonlocal unreachable_until
        if time.monotonic() - started >= SLOW_FAILURE:
            unreachable_until = time.monotonic() + UNREACHABLE_FOR
            log.warning("database server not answering: new connections fail at once for %s s",
                        UNREACHABLE_FOR)  # fmt: skip

    @event.listens_for(engine, "do_connect")
    def connect_unless_unreachable(dialect, connection_record, cargs, cparams):
        if time.monotonic() < unreachable_until:
            raise dialect.loaded_dbapi.OperationalError(
                "the database server did not answer moments ago"
            )
        started = time.monotonic()
        try:
            return dialect.connect(*cargs, **cparams)
        except Exception:
            note_failure(started)
            raise

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def note_use(dbapi_connection, connection_record, *args) -> None:
        if connection_record is not None:
            connection_record.info["last_used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def check_alive(dbapi_connection, connection_record, connection_proxy) -> None:
        idle = time.monotonic() - connection_record.info.get("last_used", 0.0)
        if idle < IDLE_PING_AFTER and not _has_input(dbapi_connection.fileno()):
            return
        started = time.monotonic()
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever the driver raises, this connection is unusable
            note_failure(started)
            # SQLAlchemy replaces it, and recycles the pool's older connections on checkout.
            raise InvalidatePoolError("the database closed a pooled connection") from error


def _has_input(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
