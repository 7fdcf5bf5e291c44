"""Sensitive profile fields are encrypted at rest, and keys rotate without losing data."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from webapp.crypto import DecryptionError, FieldCipher, generate_key, parse_keys
from webapp.extensions import db
from webapp.models import HouseholdMember, Profile

from ..support.profiles import HOME, MEMBER, add, fill_home
from ..support.settings import ENCRYPTION_KEY

SECRETS = [
    "Gate code 4321#",
    "Oxygen tanks in bedroom",
    "Type 1 diabetes",
    "Insulin",
    "Penicillin",
    "Uses a walker",
    "DNR on the fridge",
    "Rosa Díaz",
]


def raw_dump(app) -> str:
    """Every row of the profile tables as the database holds them (no decryption)."""
    with app.app_context(), db.engine.connect() as connection:
        rows = []
        for table in ("profiles", "household_members", "pets", "emergency_contacts"):
            rows += [repr(tuple(r)) for r in connection.execute(text(f"SELECT * FROM {table}"))]
    return "\n".join(rows)


@pytest.fixture
def filled(app, resident):
    client, user = resident
    fill_home(client)
    add(client, "members", MEMBER)
    add(client, "pets", {"name": "Max", "kind": "Dog", "notes": "Bites strangers"})
    return client, user


def test_raw_rows_hold_no_plaintext(app, filled):
    dump = raw_dump(app)
    for secret in [*SECRETS, "Bites strangers"]:
        assert secret not in dump
    assert HOME["street"] in dump  # the address is deliberately readable
    assert "v1." in dump
    # ...and the application reads it back.
    with app.app_context():
        assert db.session.scalar(select(HouseholdMember)).allergies == "Penicillin"


def test_a_ciphertext_moved_to_another_column_does_not_decrypt(app, filled):
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE household_members SET allergies = medications"))
        db.session.expire_all()
        with pytest.raises(DecryptionError):
            db.session.scalar(select(HouseholdMember)).allergies  # noqa: B018


def test_rotation_re_encrypts_everything_under_the_new_key(make_app, filled):
    new_key = generate_key()
    rotated = make_app(ENCRYPTION_KEYS=f"{new_key},{ENCRYPTION_KEY}")
    result = rotated.test_cli_runner().invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    assert "Re-encrypted" in result.output

    only_new = make_app(ENCRYPTION_KEYS=new_key)  # the old key is gone
    with only_new.app_context():
        member = db.session.scalar(select(HouseholdMember))
        profile = db.session.scalar(select(Profile))
        assert (member.medications, member.name) == ("Insulin", "Rosa Díaz")
        assert profile.access_notes == "Gate code 4321#"
    for secret in SECRETS:
        assert secret not in raw_dump(only_new)


def test_without_the_key_nothing_can_be_read(make_app, filled):
    stranger = make_app(ENCRYPTION_KEYS=generate_key())
    with stranger.app_context(), pytest.raises(DecryptionError):
        db.session.scalar(select(HouseholdMember)).medications  # noqa: B018


def test_keys_are_validated_and_the_first_encrypts():
    with pytest.raises(ValueError, match="32 bytes"):
        parse_keys("c2hvcnQ=")
    a, b = generate_key(), generate_key()
    old = FieldCipher(parse_keys(b))
    both = FieldCipher(parse_keys(f"{a},{b}"))
    token = old.encrypt("x", "t.c")
    assert both.decrypt(token, "t.c") == "x"
    assert not both.is_current(token)
    assert both.is_current(both.encrypt("x", "t.c"))


def test_keys_generate_prints_a_usable_key(app):
    result = app.test_cli_runner().invoke(args=["keys", "generate"])
    assert len(parse_keys(result.output.strip())) == 1


def test_production_needs_encryption_keys():
    from webapp.config import ConfigError, Settings

    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS"):
        Settings.from_env({"APP_ENV": "production", "SECRET_KEY": "s" * 40})
    with pytest.raises(ConfigError, match="ENCRYPTION_KEYS"):
        Settings.from_env({"APP_ENV": "development", "ENCRYPTION_KEYS": "not-a-key"})
