"""The audit log: append-only, hash-chained, and free of secrets."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from webapp.audit.services import verify_chain
from webapp.extensions import db
from webapp.models import AuditEvent, Role

from ..support.database import guards_lifted
from ..support.web import PASSWORD, last_code, sign_in, sign_up, submit


def actions(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [
            (e.action, e.outcome)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        ]


def test_sign_ins_and_failures_are_recorded(app, client, make_user):
    user = make_user()
    sign_in(client, user.phone, "wrong password here")
    sign_in(client, "+13125550188")
    sign_in(client, user.phone)
    recorded = actions(app)
    assert ("sign_in", "failure") in recorded
    assert recorded[-1] == ("sign_in", "success")
    with app.app_context():
        last = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert (last.actor_id, last.subject_id, last.actor_role) == (user.id, user.id, "resident")
        assert last.request_id and len(last.request_id) == 16


def test_role_changes_and_lockouts_are_recorded(app, make_user):
    from webapp.accounts.services import change_role
    from webapp.models import User

    admin = make_user(Role.ADMIN)
    user = make_user()
    with app.app_context():
        change_role(
            db.session.get(User, user.id), Role.MODERATOR, actor=db.session.get(User, admin.id)
        )
        event = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "role.changed")
        ).one()
        assert (event.actor_id, event.subject_id, event.reason) == (
            admin.id,
            user.id,
            "resident->moderator",
        )


def test_the_chain_verifies(app, client, make_user):
    user = make_user()
    for _ in range(3):
        sign_in(client, user.phone, "wrong password here")
    with app.app_context():
        report = verify_chain(batch_size=2)  # several batches
    assert report.ok and report.checked >= 4


def test_the_database_refuses_to_change_or_delete_audit_rows(app, make_user):
    make_user()
    with app.app_context():
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("UPDATE audit_events SET outcome = 'success'"))
        db.session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text("DELETE FROM audit_events"))
        db.session.rollback()


@pytest.mark.parametrize("tamper", ["edit", "delete"])
def test_verify_finds_tampering(app, client, make_user, tamper):
    user = make_user()
    for _ in range(3):
        sign_in(client, user.phone, "wrong password here")
    with guards_lifted(app), app.app_context():
        with db.engine.begin() as connection:
            second = connection.scalar(
                text("SELECT id FROM audit_events ORDER BY id LIMIT 1 OFFSET 1")
            )
            if tamper == "edit":
                connection.execute(
                    text("UPDATE audit_events SET outcome = 'success' WHERE id = :id"),
                    {"id": second},
                )
            else:
                connection.execute(text("DELETE FROM audit_events WHERE id = :id"), {"id": second})
        report = verify_chain()
    assert not report.ok
    assert report.first_bad_id >= second

    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN" in result.output


def test_audit_verify_command_on_an_intact_log(app, make_user):
    make_user()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_no_passwords_codes_or_phone_numbers_in_logs_or_audit_rows(app, caplog):
    caplog.set_level(logging.DEBUG)
    client = app.test_client()
    phone = "+13125550142"
    sign_up(client, phone=phone)
    code = last_code(app, phone)
    submit(client, "/account/verify", {"code": code})
    sign_in(app.test_client(), phone, "a wrong password")
    logged = caplog.text
    for secret in (PASSWORD, code, phone, "a wrong password"):
        assert secret not in logged
    with app.app_context():
        for event in db.session.scalars(select(AuditEvent)):
            row = " ".join(str(v) for v in vars(event).values())
            assert phone not in row and code not in row and PASSWORD not in row
