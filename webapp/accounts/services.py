"""Account operations. Each public function is one unit of work: it commits, or it raises
an ``AccountError`` whose message is shown to the person (already translated lazily)."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from ..audit.services import record
from ..extensions import db
from ..models import (
    CodePurpose,
    ConsentRecord,
    Role,
    User,
    UserSession,
    VerificationCode,
)
from ..models.types import utcnow
from .codes import check_code, issue_code
from .errors import (
    AccountError,
    AccountLocked,
    CodeExpired,
    InvalidCredentials,
    PhoneTaken,
    WrongPassword,
)

TERMS_VERSION = "2026-11-01"

SIGN_IN_WINDOW = timedelta(minutes=15)
SIGN_IN_MAX_FAILURES = 5
LOCKOUT = timedelta(minutes=10)
SESSION_TOUCH_INTERVAL = timedelta(minutes=1)
SESSION_MAX_AGE = timedelta(hours=12)  # then sign in again, whatever the cookie says
# Staff sessions also end after this long without a request. last_seen_at moves at most once
# per SESSION_TOUCH_INTERVAL, so the cut-off is exact to within that interval.
STAFF_SESSION_IDLE_TIMEOUT = timedelta(minutes=30)


# --- passwords and codes -------------------------------------------------------------------


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=current_app.config["PASSWORD_HASH_METHOD"])


@cache
def _dummy_hash(method: str) -> str:
    """A real hash to compare against when the phone is unknown, so timing does not tell."""
    return generate_password_hash(secrets.token_hex(16), method=method)


# --- sign-up and phone verification --------------------------------------------------------


def find_user_by_phone(phone: str) -> User | None:
    return db.session.scalar(select(User).where(User.phone == phone))


def register(*, phone: str, password: str, locale: str, email: str | None, consent: bool) -> User:
    """Create a resident account and text a verification code to its phone."""
    if not consent:
        raise AccountError(_l("You must agree to the terms and privacy notice."), field="consent")
    existing = find_user_by_phone(phone)
    if existing is not None:
        if existing.phone_verified or existing.role != Role.RESIDENT.value:
            raise PhoneTaken()
        # An unverified sign-up proves nothing: whoever can receive the code takes the number.
        record("account.replaced_unverified", subject_type="user", subject_id=existing.id)
        db.session.delete(existing)
        db.session.flush()
    user = User(
        phone=phone,
        password_hash=hash_password(password),
        locale=locale,
        email=email or None,
        role=Role.RESIDENT.value,
    )
    db.session.add(user)
    db.session.flush()
    db.session.add(
        ConsentRecord(
            user_id=user.id,
            phone=phone,
            kind="terms_privacy",
            granted=True,
            version=TERMS_VERSION,
            channel="web",
        )
    )
    record("account.created", actor=user, subject_type="user", subject_id=user.id)
    issue_code(user, CodePurpose.VERIFY_PHONE, phone)
    db.session.commit()
    return user


def resend_verification(user: User) -> None:
    if user.phone_verified:
        return
    issue_code(user, CodePurpose.VERIFY_PHONE, user.phone)
    db.session.commit()


def verify_phone(user: User, code: str) -> None:
    check_code(user, CodePurpose.VERIFY_PHONE, code)
    user.phone_verified_at = utcnow()
    record("phone.verified", actor=user, subject_type="user", subject_id=user.id)
    db.session.commit()


# --- signing in and out --------------------------------------------------------------------


def is_locked(user: User, now: datetime) -> bool:
    return user.locked_until is not None and user.locked_until > now


def count_failure(user: User, now: datetime) -> bool:
    """Count a wrong password or second-factor code: the fifth inside SIGN_IN_WINDOW locks the
    account for LOCKOUT. True when this failure locked it. Does not commit."""
    if user.failure_window_started_at is None or (
        now - user.failure_window_started_at > SIGN_IN_WINDOW
    ):
        user.failure_window_started_at = now
        user.failed_sign_ins = 0
    user.failed_sign_ins += 1
    if user.failed_sign_ins < SIGN_IN_MAX_FAILURES:
        return False
    user.locked_until = now + LOCKOUT
    user.failed_sign_ins = 0
    user.failure_window_started_at = None
    record("account.locked", actor=user, subject_type="user", subject_id=user.id)
    return True


def clear_failures(user: User) -> None:
    user.failed_sign_ins = 0
    user.failure_window_started_at = None
    user.locked_until = None


def authenticate(phone: str, password: str) -> User:
    """The account for ``phone`` and ``password``; counts failures and locks the account."""
    now = utcnow()
    user = find_user_by_phone(phone)
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
        record("sign_in", outcome="failure", reason="unknown account")
        db.session.commit()
        raise InvalidCredentials()
    if is_locked(user, now):
        record("sign_in", outcome="locked", actor=user, subject_type="user", subject_id=user.id)
        db.session.commit()
        raise AccountLocked()
    if not check_password_hash(user.password_hash, password):
        record(
            "sign_in",
            outcome="failure",
            actor=user,
            subject_type="user",
            subject_id=user.id,
            reason="wrong password",
        )
        locked = count_failure(user, now)
        db.session.commit()
        raise AccountLocked() if locked else InvalidCredentials()
    if not user.is_active:
        record(
            "sign_in",
            outcome="denied",
            actor=user,
            subject_type="user",
            subject_id=user.id,
            reason="account disabled",
        )
        db.session.commit()
        raise AccountError(
            _l("This account is disabled. Contact the city if you think this is a mistake.")
        )
    if not user.is_staff:
        # Staff are signed in only halfway: their count of failures is cleared when the second
        # factor passes, or knowing the password would reset the count of wrong codes.
        clear_failures(user)
    record("sign_in", actor=user, subject_type="user", subject_id=user.id)
    db.session.commit()
    return user


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User) -> str:
    """A new server-side session; the returned token goes in the (signed) cookie only."""
    token = secrets.token_urlsafe(32)
    db.session.add(UserSession(user_id=user.id, token_hash=_token_hash(token)))
    db.session.commit()
    return token


def end_session(token: str | None) -> None:
    if not token:
        return
    db.session.execute(
        update(UserSession)
        .where(UserSession.token_hash == _token_hash(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()


def revoke_all_sessions(user: User) -> None:
    """Sign ``user`` out everywhere. Does not commit."""
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )


def live_session(user: User, token: str | None) -> UserSession | None:
    """The unrevoked session of ``user`` whose cookie holds ``token``."""
    if not token:
        return None
    return db.session.scalar(
        select(UserSession).where(
            UserSession.token_hash == _token_hash(token),
            UserSession.user_id == user.id,
            UserSession.revoked_at.is_(None),
        )
    )


def load_session_user(user_id: str, token: str | None) -> User | None:
    """The user of a live session, or None when the session was revoked, never existed, or
    ran out: SESSION_MAX_AGE for everyone, STAFF_SESSION_IDLE_TIMEOUT idle for staff."""
    if not token or not user_id.isdigit():
        return None
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == _token_hash(token)))
    if row is None or row.revoked_at is not None or row.user_id != int(user_id):
        return None
    user = row.user
    now = utcnow()
    if not user.is_active or now - row.created_at > SESSION_MAX_AGE:
        return None
    if user.is_staff and now - row.last_seen_at > STAFF_SESSION_IDLE_TIMEOUT:
        row.revoked_at = now
        record("session.expired", actor=user, subject_type="user", subject_id=user.id,
               reason="idle")  # fmt: skip
        db.session.commit()
        return None
    if now - row.last_seen_at > SESSION_TOUCH_INTERVAL:
        row.last_seen_at = now
        db.session.commit()
    return user


# --- password reset ------------------------------------------------------------------------


def request_password_reset(phone: str) -> None:
    """Text a reset code when a verified account uses ``phone``; say nothing either way."""
    user = find_user_by_phone(phone)
    if user is None or not user.phone_verified:
        record("password_reset.requested", outcome="unknown account")
        db.session.commit()
        return
    issue_code(user, CodePurpose.RESET_PASSWORD, phone)
    record("password_reset.requested", actor=user, subject_type="user", subject_id=user.id)
    db.session.commit()


def reset_password(phone: str, code: str, new_password: str) -> User:
    user = find_user_by_phone(phone)
    if user is None:
        raise CodeExpired()
    check_code(user, CodePurpose.RESET_PASSWORD, code)
    user.password_hash = hash_password(new_password)
    user.locked_until = None
    user.failed_sign_ins = 0
    user.failure_window_started_at = None
    revoke_all_sessions(user)
    record("password_reset", actor=user, subject_type="user", subject_id=user.id)
    db.session.commit()
    return user


# --- account settings ----------------------------------------------------------------------


def start_phone_change(user: User, new_phone: str, password: str) -> None:
    """Check the password and text a code to ``new_phone``; the number changes on confirm."""
    if not check_password_hash(user.password_hash, password):
        record(
            "phone.change",
            outcome="failure",
            actor=user,
            subject_type="user",
            subject_id=user.id,
            reason="wrong password",
        )
        db.session.commit()
        raise WrongPassword()
    if new_phone == user.phone:
        raise AccountError(_l("This is already your phone number."), field="phone")
    other = find_user_by_phone(new_phone)
    if other is not None and other.phone_verified:
        raise PhoneTaken()
    issue_code(user, CodePurpose.CHANGE_PHONE, new_phone)
    db.session.commit()


def pending_phone_change(user: User) -> str | None:
    row = db.session.scalar(
        select(VerificationCode)
        .where(
            VerificationCode.user_id == user.id,
            VerificationCode.purpose == CodePurpose.CHANGE_PHONE.value,
            VerificationCode.used_at.is_(None),
            VerificationCode.expires_at > utcnow(),
        )
        .order_by(VerificationCode.id.desc())
        .limit(1)
    )
    return row.phone if row else None


def confirm_phone_change(user: User, code: str) -> None:
    row = check_code(user, CodePurpose.CHANGE_PHONE, code)
    other = find_user_by_phone(row.phone)
    if other is not None and other.id != user.id:
        if other.phone_verified:
            db.session.rollback()
            raise PhoneTaken(field="code")
        db.session.delete(other)  # an unverified squatter on the number
        db.session.flush()
    user.phone = row.phone
    user.phone_verified_at = utcnow()
    record("phone.changed", actor=user, subject_type="user", subject_id=user.id)
    db.session.commit()


def update_settings(user: User, *, locale: str, email: str | None) -> None:
    user.email = email or None
    record("account.settings_changed", actor=user, subject_type="user", subject_id=user.id)
    set_language(user, locale, channel="web")
    db.session.commit()


def set_language(user: User, locale: str, *, channel: str) -> None:
    """The language of the site and of texts; the web settings and SMS ``LANG`` both call it.
    The caller commits."""
    user.locale = locale
    record("account.language_changed", actor=user, subject_type="user", subject_id=user.id,
           reason=f"{locale} via {channel}")  # fmt: skip


# --- staff ---------------------------------------------------------------------------------


def create_account(*, phone: str, role: Role, password: str, locale: str = "en") -> User:
    """Create an account of any role from the CLI; whoever runs it vouches for the phone."""
    if find_user_by_phone(phone) is not None:
        raise PhoneTaken()
    user = User(
        phone=phone,
        password_hash=hash_password(password),
        role=role.value,
        locale=locale,
        phone_verified_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    record("staff.created", subject_type="user", subject_id=user.id, reason=f"role={role.value}")
    db.session.commit()
    return user


def change_role(user: User, role: Role, *, actor: User | None = None) -> None:
    old = user.role
    user.role = role.value
    revoke_all_sessions(user)
    record(
        "role.changed",
        actor=actor,
        subject_type="user",
        subject_id=user.id,
        reason=f"{old}->{role.value}",
    )
    db.session.commit()
