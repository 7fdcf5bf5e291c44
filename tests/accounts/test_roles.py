"""Roles, the staff console placeholders, and `flask users create`."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from webapp.extensions import db
from webapp.models import AuditEvent, Role, User

from ..support.web import sign_in

CONSOLES = {
    "/staff/moderation/": Role.MODERATOR,
    "/staff/police/": Role.OFFICER,
    "/staff/dispatch/": Role.DISPATCHER,
    "/staff/admin/": Role.ADMIN,
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("path", list(CONSOLES))
def test_each_console_admits_only_its_role(sign_in_as, role, path):
    client, _ = sign_in_as(role)
    response = client.get(path)
    assert response.status_code == (200 if CONSOLES[path] is role else 403)


@pytest.mark.parametrize("path", list(CONSOLES))
def test_anonymous_visitors_are_sent_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/account/sign-in?next=")


@pytest.mark.parametrize("role", [r for r in Role if r.is_staff])
def test_staff_index_leads_to_the_roles_console(sign_in_as, role):
    client, _ = sign_in_as(role)
    location = client.get("/staff/").headers["Location"]
    assert CONSOLES[location] is role


def test_residents_have_no_staff_console(resident):
    client, _ = resident
    assert client.get("/staff/").status_code == 403


def test_users_create_with_a_generated_password(app):
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "dispatcher", "--phone", "(312) 555-0170",
              "--generate-password"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    password = re.search(r"Password \(shown once, store it safely\): (\S+)", result.output)[1]
    with app.app_context():
        user = db.session.scalar(select(User).where(User.phone == "+13125550170"))
        assert user.role == "dispatcher" and user.phone_verified
        assert password not in user.password_hash
        assert "staff.created" in db.session.scalars(select(AuditEvent.action)).all()
    assert sign_in(app.test_client(), "+13125550170", password).status_code == 302


def test_users_create_with_a_prompted_password(app):
    password = "a long enough staff passphrase"
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "officer", "--phone", "+13125550171"],
        input=f"{password}\n{password}\n",
    )
    assert result.exit_code == 0, result.output
    assert password not in result.output
    assert sign_in(app.test_client(), "+13125550171", password).status_code == 302


@pytest.mark.parametrize(
    ("args", "input_", "error"),
    [
        (["--role", "officer", "--phone", "12"], None, "not a valid phone number"),
        (["--role", "chief", "--phone", "+13125550172"], None, "Invalid value for '--role'"),
        (
            ["--role", "officer", "--phone", "+13125550172"],
            "password12\npassword12\n",
            "not common",
        ),
    ],
)
def test_users_create_refuses_bad_input(app, args, input_, error):
    result = app.test_cli_runner().invoke(args=["users", "create", *args], input=input_)
    assert result.exit_code != 0
    assert error in result.output


def test_users_create_refuses_a_number_in_use(app, make_user):
    user = make_user()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--role", "admin", "--phone", user.phone, "--generate-password"]
    )
    assert result.exit_code != 0
    assert "already uses this phone number" in result.output
