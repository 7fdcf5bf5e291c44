"""The SMS webhook's statements run on the driver's cursor (``webapp/driver_sql.py``): what
they store and read is what SQLAlchemy stores and reads, their errors are SQLAlchemy's, and
connections go back to the pool as they came."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from webapp import driver_sql
from webapp.extensions import db
from webapp.models import ConsentRecord, InboundMessage
from webapp.sms import inbound
from webapp.sms.services import SMS_CONSENT_VERSION, record_sms_consent

from .conftest import PG_URL, new_phone

ROW = [  # the columns whose stored form is compared as the database holds it
    "from_number", "to_number", "source", "received_at", "command", "processed_at",
]  # fmt: skip


def stored_as_written(app, sid: str) -> tuple:
    columns = ", ".join(ROW)
    with app.app_context():
        return db.session.execute(
            sa.text(f"SELECT {columns} FROM inbound_messages WHERE message_sid = :sid"),
            {"sid": sid},
        ).one()


def test_a_text_stored_on_the_driver_is_stored_as_sqlalchemy_stores_it(app):
    sender = inbound.Sender(new_phone(), None, None, False, False, False)
    form = {"To": "+13125550100", "Body": "Gate code 4321, ¿dónde? 帮助 🙂"}
    at = datetime(2026, 11, 21, 9, 30, 15, 123456, tzinfo=UTC)
    values = dict(source="webhook", command="unknown", reply="Sorry ñ", received_at=at)
    with app.app_context():
        with driver_sql.connect(db.engine, autocommit=True) as conn:
            row = conn.execute(inbound._INSERT, inbound._stored("SMdriver", form, sender, **values))
            conn.commit()
        assert row is not None and isinstance(row[0], int)
        # SQLAlchemy's own execution of the same statement
        session_connection = db.session.connection()
        session_connection.execute(
            inbound._INSERT.statement[session_connection.dialect.name],
            inbound._stored("SMsqlalchemy", form, sender, **values),
        )
        db.session.commit()

        driver, orm = (
            db.session.scalar(sa.select(InboundMessage).filter_by(message_sid=sid))
            for sid in ("SMdriver", "SMsqlalchemy")
        )
        assert (driver.body, driver.reply) == (form["Body"], "Sorry ñ") == (orm.body, orm.reply)
        assert driver.received_at == orm.received_at == at
        raw = db.session.scalar(sa.text("SELECT body FROM inbound_messages LIMIT 1"))
        assert "4321" not in raw  # encrypted by the column's own type
    # Dates and the rest, exactly as the database holds them (SQLite: as text); the time it
    # was processed is each one's own.
    driver_row, orm_row = stored_as_written(app, "SMdriver"), stored_as_written(app, "SMsqlalchemy")
    assert driver_row[:-1] == orm_row[:-1]
    assert type(driver_row[-1]) is type(orm_row[-1]) and len(str(driver_row[-1])) == len(
        str(orm_row[-1])
    )


@pytest.mark.parametrize("state", ["unknown", "account", "stopped", "started"])
def test_the_senders_state_reads_as_sqlalchemy_reads_it(app, make_user, state):
    phone = new_phone() if state == "unknown" else make_user(locale="es").phone
    with app.app_context():
        if state in ("stopped", "started"):
            record_sms_consent(phone, False, channel="sms")
            if state == "started":
                record_sms_consent(phone, True, channel="sms")
            db.session.commit()
        expected = tuple(db.session.execute(inbound._SENDER_STATE.statement,
                                            {"sender": phone}).one())  # fmt: skip
        with driver_sql.connect(db.engine) as conn:
            row = conn.execute(inbound._SENDER_STATE, {"sender": phone})
            sender = inbound._sender(conn, phone)
    assert row == expected
    assert [type(value) for value in row] == [type(value) for value in expected]
    assert sender.opted_out is (state == "stopped")
    assert sender.verified is (state != "unknown")


def test_a_consent_entry_on_the_driver_is_stored_as_sqlalchemy_stores_it(app, make_user):
    """STOP and START write the ledger on the webhook's own connection (``on``); the web
    writes it in the session's transaction: both as SQLAlchemy's own INSERT would."""
    user = make_user()
    with app.app_context():
        with driver_sql.connect(db.engine, autocommit=True) as conn:
            conn.begin()
            record_sms_consent(user.phone, False, channel="sms", user_id=user.id, on=conn)
            conn.commit()
        record_sms_consent(user.phone, True, channel="account_deleted")
        db.session.execute(sa.insert(ConsentRecord).values(
            phone=user.phone, kind="sms", granted=False, version=SMS_CONSENT_VERSION,
            channel="web",
        ))  # fmt: skip
        db.session.commit()
        rows = db.session.execute(sa.text(
            "SELECT user_id, phone, kind, granted, version, channel, created_at "
            "FROM consent_records WHERE phone = :phone ORDER BY id"
        ), {"phone": user.phone}).all()  # fmt: skip
        entries = db.session.scalars(
            sa.select(ConsentRecord).where(ConsentRecord.phone == user.phone)
            .order_by(ConsentRecord.id)
        ).all()  # fmt: skip
    assert [row[:6] for row in rows] == [
        (user.id, user.phone, "sms", rows[2][3], SMS_CONSENT_VERSION, "sms"),
        (None, user.phone, "sms", rows[1][3], SMS_CONSENT_VERSION, "account_deleted"),
        (None, user.phone, "sms", rows[2][3], SMS_CONSENT_VERSION, "web"),
    ]
    assert rows[0][3] != rows[1][3]  # False and True, as the database holds each
    assert len({type(row[6]) for row in rows}) == 1  # dates as the database holds them
    assert len({len(str(row[6])) for row in rows}) == 1
    assert [e.granted for e in entries] == [False, True, False]
    assert all(e.created_at.tzinfo is not None for e in entries)


def test_begin_makes_one_transaction_that_a_failure_rolls_back(app, make_user):
    user = make_user()
    broken = driver_sql.DriverStatement(sa.text("SELECT no_such_column FROM consent_records"))
    with app.app_context():
        with pytest.raises(DBAPIError), driver_sql.connect(db.engine, autocommit=True) as conn:
            conn.begin()
            assert conn.autocommit is False
            record_sms_consent(user.phone, False, channel="sms", on=conn)
            conn.execute(broken, {})
        with driver_sql.connect(db.engine, autocommit=True) as conn:  # the pool's, serving on
            conn.execute(inbound._STORED_REPLY, {"sid": "SMnone"})
        count = sa.select(sa.func.count()).select_from(ConsentRecord)
        assert db.session.scalar(count.where(ConsentRecord.phone == user.phone)) == 0


def test_a_failing_statement_raises_sqlalchemys_error_and_the_connection_serves_on(app):
    broken = driver_sql.DriverStatement(sa.text("SELECT no_such_column FROM inbound_messages"))
    with app.app_context():
        with (
            pytest.raises(DBAPIError) as raised,
            driver_sql.connect(db.engine, autocommit=True) as conn,
        ):
            conn.execute(broken, {})
        assert not raised.value.connection_invalidated
        assert "no_such_column" in str(raised.value)
        with driver_sql.connect(db.engine, autocommit=True) as conn:
            assert conn.execute(inbound._STORED_REPLY, {"sid": "SMnone"}) is None


def test_nothing_runs_on_a_session_connection_once_it_went_back_to_the_pool(app):
    with app.app_context(), driver_sql.joined(db.session.connection()) as conn:
        assert conn.execute(inbound._STORED_REPLY, {"sid": "SMnone"}) is None
        db.session.rollback()  # the session gives its connection back
        with pytest.raises(RuntimeError, match="no longer this request's"):
            conn.execute(inbound._STORED_REPLY, {"sid": "SMnone"})


def test_no_connection_at_all_raises_sqlalchemys_error(tmp_path):
    """As ``engine.connect()`` would: the webhook takes it for a database fault (it answers
    safely and spools the text) rather than logging it as a bug."""
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'db.sqlite3'}")
    with pytest.raises(DBAPIError), driver_sql.connect(engine) as conn:
        conn.execute(inbound._STORED_REPLY, {"sid": "SMnone"})
    engine.dispose()


def test_a_statement_rendered_again_on_each_execution_is_refused(app):
    statement = sa.select(InboundMessage.id).where(InboundMessage.source.in_(["a", "b"]))
    with app.app_context(), pytest.raises(ValueError, match="compiled once"):
        driver_sql.DriverStatement(statement).for_dialect(db.engine.dialect)


postgres_only = pytest.mark.skipif(not PG_URL, reason="a server connection: PostgreSQL")


def pg_engine(**options) -> sa.Engine:
    return sa.create_engine(PG_URL.replace("postgresql://", "postgresql+psycopg://", 1), **options)


PID = driver_sql.DriverStatement(sa.text("SELECT pg_backend_pid()"))


@postgres_only
def test_autocommit_is_off_again_when_the_connection_goes_back_to_the_pool():
    engine = pg_engine(pool_size=1, max_overflow=0)
    try:
        with driver_sql.connect(engine, autocommit=True) as conn:
            assert conn._pooled.driver_connection.autocommit is True
            own = conn.execute(PID, {})
        pooled = engine.raw_connection()  # the pool's one connection
        try:
            assert pooled.driver_connection.autocommit is False
            cursor = pooled.cursor()
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone() == own  # the same connection came back
        finally:
            pooled.close()
    finally:
        engine.dispose()


@postgres_only
def test_a_connection_the_server_ended_is_invalidated_not_pooled_again():
    engine, admin = pg_engine(pool_size=1, max_overflow=0), pg_engine(poolclass=sa.pool.NullPool)
    try:
        with (
            pytest.raises(DBAPIError) as raised,
            driver_sql.connect(engine, autocommit=True) as conn,
        ):
            [first] = conn.execute(PID, {})
            with admin.connect() as other:
                other.execute(sa.text("SELECT pg_terminate_backend(:pid, 5000)"),
                              {"pid": first})  # fmt: skip
            conn.execute(PID, {})
        assert raised.value.connection_invalidated
        with driver_sql.connect(engine, autocommit=True) as conn:
            [second] = conn.execute(PID, {})
        assert second != first
    finally:
        engine.dispose()
        admin.dispose()


@postgres_only
@pytest.mark.parametrize("ending", ["commit", "nothing", "error"])
def test_after_begin_the_connection_goes_back_as_it_came_and_is_not_replaced(ending):
    """A STOP is a transaction on the webhook's own connection; whether it commits, stores
    nothing (a replay: the pool rolls back) or fails, the pool's connection serves on, out of
    autocommit, and is the same one (a reset attempted inside a transaction would raise and
    throw it away)."""
    engine = pg_engine(pool_size=1, max_overflow=0)
    broken = driver_sql.DriverStatement(sa.text("SELECT no_such_column"))
    try:
        with suppress(DBAPIError), driver_sql.connect(engine, autocommit=True) as conn:
            [own] = conn.execute(PID, {})
            conn.begin()
            conn.execute(PID, {})  # in a transaction now
            if ending == "commit":
                conn.commit()
            elif ending == "error":
                conn.execute(broken, {})
        pooled = engine.raw_connection()
        try:
            assert pooled.driver_connection.autocommit is False
            assert pooled.driver_connection.info.transaction_status.name == "IDLE"
            cursor = pooled.cursor()
            cursor.execute("SELECT pg_backend_pid()")
            assert cursor.fetchone() == (own,)
        finally:
            pooled.close()
    finally:
        engine.dispose()
