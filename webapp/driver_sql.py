"""A few Core statements run on the driver's own cursor: the SMS webhook's hot path.

SQLAlchemy builds, caches and runs a statement with a good deal of Python around the driver
call: a cache lookup, parameter processing, a result object, events, a ``Connection`` to hold
it all. For the SMS webhook that was the largest share of its cost under load, larger than
the database's own work (README, "SMS webhook under load"). Here SQLAlchemy still writes the
SQL: a ``DriverStatement`` is a Core statement compiled once per dialect, with its columns'
own bind and result processors (the encryption of a text, SQLite's dates and booleans), so
that what is stored and read is exactly what SQLAlchemy would store and read (a test holds
the two equal). Only running it is left to the driver's cursor, on a connection of the
engine's own pool, so the pool's events (``db_watch``'s liveness checks and deadlines) apply.

Errors are raised as SQLAlchemy raises them (``DBAPIError`` and its subclasses), and a
connection the error shows to be lost is invalidated, as SQLAlchemy does.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any

from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import Executable

from . import sqlite_writers


class _Compiled:
    """A statement's SQL for one dialect, and how to pass its parameters and read its row."""

    def __init__(self, statement, dialect: Dialect):
        compiled = statement.compile(dialect=dialect)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a statement rendered again on each execution cannot be compiled once")
        self.sql = compiled.string
        self.names = compiled.positiontup if compiled.positional else None
        binds = compiled.binds
        self.processors = {}
        for name, bind in binds.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.processors[name] = processor
        # Values fixed in the statement itself (``kind == "sms"``), processed once.
        self.fixed = {
            name: self.processors[name](bind.value) if name in self.processors else bind.value
            for name, bind in binds.items()
            if bind.value is not None and not bind.callable
        }
        columns = getattr(statement, "exported_columns", ())
        self.results = [
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        ]
        # Whether there is a row to fetch, known without asking the cursor (psycopg builds
        # its description's column objects each time it is asked). Textual SQL: ask.
        if columns:
            self.returns_rows = True
        elif compiled.isinsert or compiled.isupdate or compiled.isdelete:
            self.returns_rows = bool(compiled.effective_returning)
        else:
            self.returns_rows = None

    def parameters(self, values: Mapping[str, Any]):
        processors = self.processors
        params = dict(self.fixed)
        for name, value in values.items():
            processor = processors.get(name)
            params[name] = value if processor is None or value is None else processor(value)
        if self.names is None:
            return params
        return tuple(params[name] for name in self.names)

    def row(self, raw: tuple | None) -> tuple | None:
        if raw is None:
            return None
        if not self.results:  # textual SQL: no column types to apply
            return tuple(raw)
        return tuple(
            value if process is None or value is None else process(value)
            for process, value in zip(self.results, raw, strict=True)
        )


class DriverStatement:
    """A Core statement (or one per dialect name) for ``DriverConnection.execute``."""

    def __init__(self, statement: Executable | Mapping[str, Executable]):
        self.statement = statement
        self._compiled: dict[str, _Compiled] = {}

    def for_dialect(self, dialect: Dialect) -> _Compiled:
        compiled = self._compiled.get(dialect.name)
        if compiled is None:
            statement = self.statement
            if isinstance(statement, Mapping):
                statement = statement[dialect.name]
            compiled = self._compiled[dialect.name] = _Compiled(statement, dialect)
        return compiled


class DriverConnection:
    """A pooled connection's cursor, for ``DriverStatement``s."""

    def __init__(self, pooled, engine: Engine):
        self._pooled = pooled
        self._engine = engine
        self._dialect = engine.dialect
        self._cursor = pooled.cursor()
        self._autocommit = False  # switched on by ``connect`` (a server), until ``begin``

    @property
    def dialect_name(self) -> str:
        return self._dialect.name

    @property
    def autocommit(self) -> bool:
        return self._autocommit

    @autocommit.setter
    def autocommit(self, on: bool) -> None:
        _set_autocommit(self._pooled, self._dialect, on)
        self._autocommit = on

    def execute(self, statement: DriverStatement, values: Mapping[str, Any]) -> tuple | None:
        """Run the statement; its first row, processed (None when it returns none)."""
        if not self._pooled.is_valid:  # back in the pool (or lost): a bug, said loudly
            raise RuntimeError("this connection is no longer this request's")
        compiled = statement.for_dialect(self._dialect)
        params = compiled.parameters(values)
        cursor = self._cursor
        try:
            cursor.execute(compiled.sql, params)
            returns_rows = compiled.returns_rows
            if returns_rows is None:
                returns_rows = cursor.description is not None
            raw = cursor.fetchone() if returns_rows else None
        except self._dialect.loaded_dbapi.Error as error:
            raise _translated(
                error, self._pooled, self._dialect, compiled.sql, params, cursor
            ) from error
        return compiled.row(raw)

    def writer_turn(self) -> AbstractContextManager[None]:
        """Around a write and its commit: on SQLite, wait for this app's other queued writers
        first (``webapp/sqlite_writers.py``); elsewhere nothing."""
        return sqlite_writers.turn(self._engine, self._pooled)

    def begin(self) -> None:
        """End autocommit: the statements from here on are one transaction, until ``commit``
        (or the rollback of the pool, should anything fail first). SQLite needs nothing: it
        begins a transaction at the first write and keeps it open until ``commit``."""
        if self._autocommit:
            self.autocommit = False

    def commit(self) -> None:
        try:
            self._pooled.commit()
        except self._dialect.loaded_dbapi.Error as error:
            raise _translated(error, self._pooled, self._dialect, "COMMIT", ()) from error

    def close(self) -> None:
        with suppress(Exception):  # the cursor of a connection already lost
            self._cursor.close()


@contextmanager
def connect(engine: Engine, *, autocommit: bool = False) -> Iterator[DriverConnection]:
    """A connection from ``engine``'s pool for ``DriverStatement``s, back to the pool after.

    ``autocommit`` (a server): each statement commits on its own, without the round trips of
    BEGIN and COMMIT, until ``DriverConnection.begin`` starts a transaction; the connection
    goes back to the pool as it came. SQLite needs nothing for that: it begins no transaction
    to read, and a write is committed by ``commit``. A transaction left open (an error before
    ``commit``) is rolled back by the pool.
    """
    dialect = engine.dialect
    try:
        pooled = engine.raw_connection()
    except dialect.loaded_dbapi.Error as error:  # no connection: raised as SQLAlchemy does
        raise DBAPIError.instance(
            None, None, error, dialect.loaded_dbapi.Error,
            connection_invalidated=dialect.is_disconnect(error, None, None), dialect=dialect,
        ) from error  # fmt: skip
    try:
        connection = DriverConnection(pooled, engine)
        try:
            if autocommit and dialect.name != "sqlite":
                connection.autocommit = True
            yield connection
        finally:
            connection.close()
            # Back as it came (after ``begin`` it is off already: it may not change inside a
            # transaction, which the pool's reset rolls back).
            if connection.autocommit and pooled.is_valid:
                connection.autocommit = False
    finally:
        pooled.close()


@contextmanager
def joined(connection: Connection) -> Iterator[DriverConnection]:
    """The driver's cursor on an SQLAlchemy ``connection`` (a session's, say), inside its
    transaction: what runs here is committed or rolled back with the rest of it."""
    driver = DriverConnection(connection.connection, connection.engine)
    try:
        yield driver
    finally:
        driver.close()


def _set_autocommit(pooled, dialect: Dialect, on: bool) -> None:
    try:
        pooled.driver_connection.autocommit = on
    except Exception as error:  # a connection in an unknown state is not handed out again
        pooled.invalidate(error)
        if isinstance(error, dialect.loaded_dbapi.Error):
            raise _translated(error, pooled, dialect, "SET autocommit", ()) from error
        raise


def _translated(error, pooled, dialect: Dialect, sql: str, params, cursor=None) -> DBAPIError:
    """The driver's ``error`` as SQLAlchemy raises it; a connection it shows to be lost is
    invalidated (the pool makes a new one)."""
    lost = not pooled.is_valid or dialect.is_disconnect(error, pooled.dbapi_connection, cursor)
    if lost and pooled.is_valid:
        pooled.invalidate(error)
    return DBAPIError.instance(
        sql, params, error, dialect.loaded_dbapi.Error,
        connection_invalidated=lost, dialect=dialect,
    )  # fmt: skip
