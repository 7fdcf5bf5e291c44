"""Real database failures for the tests: a trigger that refuses inserts into a table."""

from __future__ import annotations

from contextlib import contextmanager

from sqlalchemy import text

from webapp.extensions import db


@contextmanager
def inserts_refused(app, table: str, *, phone: str | None = None):
    """Until the block ends, inserting into ``table`` fails in the database itself (a
    trigger raises), for every row or only for rows whose ``phone`` column is ``phone``."""
    name = f"refuse_{table}"
    with app.app_context():
        postgres = db.engine.dialect.name == "postgresql"
        if postgres:
            condition = f"NEW.phone = '{phone}'" if phone else "true"
            db.session.execute(text(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF {condition} THEN RAISE EXCEPTION '{table} unavailable'; END IF; "
                "RETURN NEW; END $$"
            ))  # fmt: skip
            db.session.execute(text(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            ))  # fmt: skip
        else:
            when = f" WHEN NEW.phone = '{phone}'" if phone else ""
            db.session.execute(text(
                f"CREATE TRIGGER {name} BEFORE INSERT ON {table}{when} "
                f"BEGIN SELECT RAISE(ABORT, '{table} unavailable'); END"
            ))  # fmt: skip
        db.session.commit()
    try:
        yield
    finally:
        with app.app_context():
            if postgres:
                db.session.execute(text(f"DROP TRIGGER {name} ON {table}"))
                db.session.execute(text(f"DROP FUNCTION {name}()"))
            else:
                db.session.execute(text(f"DROP TRIGGER {name}"))
            db.session.commit()
