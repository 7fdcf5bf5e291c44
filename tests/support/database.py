"""The test databases: SQLite by default, PostgreSQL when ``TEST_DATABASE_URL`` is set.

The schema is built once per run (per pytest-xdist worker) by the real migrations. Each test
then starts on a clean database: on SQLite a fresh copy of the migrated file, on PostgreSQL
the same database emptied (``reset_postgres``).
"""

from __future__ import annotations

import os
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import psycopg
import sqlalchemy as sa
from flask_migrate import upgrade
from sqlalchemy import select, text

from webapp import create_app
from webapp.extensions import db
from webapp.models import ConsentRecord

from .settings import base_config


def _psycopg(url: str) -> str:
    return url.replace("postgresql://", "postgresql+psycopg://", 1)


def _worker_database(url: str) -> str:
    """Under pytest-xdist each worker has a PostgreSQL database of its own (``test_gw0``, …,
    created on first use next to ``TEST_DATABASE_URL``'s); without it, that database."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not url or not worker:
        return url
    base = sa.engine.make_url(url)
    name = f"{base.database}_{worker}"
    admin = sa.create_engine(
        base.set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        exists = conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("TEST_DATABASE_URL", ""))


def migrated_database(folder: Path) -> str:
    """Build the schema with the real migrations; return the database URL (on SQLite, the
    template file each test copies, in ``folder``)."""
    if PG_URL:
        engine = sa.create_engine(_psycopg(PG_URL))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
        url = PG_URL
    else:
        url = "sqlite:///" + str(folder / "template.sqlite3")
    app = create_app(base_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url


def fresh_database(template_url: str, folder: Path) -> str:
    """A clean database for one test: on SQLite a copy of the template in ``folder``; on
    PostgreSQL the worker's database itself (``reset_postgres`` empties it after each test)."""
    if PG_URL:
        return template_url
    copy = folder / "db.sqlite3"
    shutil.copyfile(template_url.removeprefix("sqlite:///"), copy)
    return "sqlite:///" + str(copy)


# Emptying every table with DELETE, with triggers and foreign keys off for the transaction
# (session_replication_role), then restarting the sequences used since, takes one round trip
# and a few milliseconds; TRUNCATE of every table took some 60 ms a test (new files for every
# table and index). The audit log's append-only triggers are not fired either way.
_EMPTY = """
DO $$
DECLARE
  name text;
BEGIN
  SET LOCAL session_replication_role = replica;
  FOREACH name IN ARRAY ARRAY[{tables}]::text[] LOOP
    EXECUTE format('DELETE FROM %I', name);
  END LOOP;
  FOR name IN
    SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences
    WHERE schemaname = current_schema() AND last_value IS NOT NULL
  LOOP
    EXECUTE format('ALTER SEQUENCE %s RESTART', name);
  END LOOP;
END $$
"""
_OTHER_CONNECTIONS = (
    "SELECT format('pid %s from port %s, %s since %s: %s', pid, client_port, state, "
    "backend_start, left(query, 80)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)
_can_skip_triggers = True  # False once the server refuses session_replication_role


def _empty_tables(conn: psycopg.Connection) -> None:
    global _can_skip_triggers
    tables = [t.name for t in db.metadata.sorted_tables]
    if _can_skip_triggers:
        try:
            with conn.transaction():
                # A DO block takes no parameters: the (known) names go in as literals.
                conn.execute(_EMPTY.format(tables=", ".join(f"'{name}'" for name in tables)))
            return
        except psycopg.errors.InsufficientPrivilege:  # session_replication_role: superusers'
            _can_skip_triggers = False
    with conn.transaction():
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


def reset_postgres() -> list[str]:
    """Empty every table; return the connections to this database that the test left open
    (the server's view, so a leak is found at the test that made it, not whenever the garbage
    collector happens to find the connection). Connections still ending are waited for."""
    # In autocommit each look at pg_stat_activity is a transaction of its own (it is read
    # once per transaction).
    with psycopg.connect(PG_URL.replace("+psycopg", "", 1), autocommit=True) as conn:
        _empty_tables(conn)
        deadline = time.monotonic() + 2
        while (left_open := [row[0] for row in conn.execute(_OTHER_CONNECTIONS)]) and (
            time.monotonic() < deadline
        ):
            time.sleep(0.05)
    return left_open


# --- looking into a test's database ---------------------------------------------------------


def rows(app, model, *where) -> list:
    """The rows of ``model`` that match ``where``, in id order, detached from the session so
    that they can be read once the app context is gone."""
    with app.app_context():
        found = db.session.scalars(select(model).where(*where).order_by(model.id)).all()
        db.session.expunge_all()
        return list(found)


def all_rows(app) -> str:
    """Every row of every table, as text (to look for what should be gone)."""
    with app.app_context(), db.engine.connect() as connection:
        dump = []
        for table in db.metadata.sorted_tables:
            dump += [
                repr(tuple(r)) for r in connection.execute(text(f"SELECT * FROM {table.name}"))
            ]
    return "\n".join(dump)


def sms_consent(app, phone: str) -> list[bool]:
    """The SMS consent recorded for ``phone``, oldest first (True: texts are on)."""
    with app.app_context():
        return list(db.session.scalars(
            select(ConsentRecord.granted)
            .where(ConsentRecord.phone == phone, ConsentRecord.kind == "sms")
            .order_by(ConsentRecord.id)
        ))  # fmt: skip


@contextmanager
def guards_lifted(app):
    """What someone with full database access could do before tampering; restored after,
    because on PostgreSQL the schema is shared by the whole run."""
    with app.app_context():
        dialect = db.engine.dialect.name
        with db.engine.begin() as connection:
            if dialect == "postgresql":
                connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
            else:
                connection.execute(text("DROP TRIGGER audit_events_no_update"))
                connection.execute(text("DROP TRIGGER audit_events_no_delete"))
        try:
            yield
        finally:
            if dialect == "postgresql":
                with db.engine.begin() as connection:
                    connection.execute(text("ALTER TABLE audit_events ENABLE TRIGGER USER"))
