"""The staff second factor: TOTP (RFC 6238) from an authenticator app, and recovery codes.

A code works once: the last accepted time step is kept and a code of that step or an earlier
one is refused. Wrong codes count with wrong passwords (``services.count_failure``): five in
15 minutes lock the account for 10, and while it is locked even a right code is refused.
Secrets are encrypted at rest; recovery codes are kept only as keyed hashes. Nothing here
logs or audits a code or a secret.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime

import pyotp
from flask import current_app
from flask_babel import lazy_gettext as _l
from pyotp.utils import strings_equal
from sqlalchemy import delete, func, or_, select, update

from ..audit.services import record
from ..extensions import db
from ..models import RecoveryCode, User
from ..models.types import utcnow
from .errors import AccountError, SecondFactorLocked, SecondFactorProblem, SecondFactorReused
from .services import clear_failures, count_failure, is_locked, live_session

TOTP_VALID_WINDOW = 1  # one 30-second step either side, for clocks that drift a little
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10  # shown as two groups of five
# No 0/O, 1/I/L: read off paper and typed by hand.
RECOVERY_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

APP = "authenticator app"
RECOVERY = "recovery code"


def _audit(action: str, user: User, **kwargs) -> None:
    record(action, actor=user, subject_type="user", subject_id=user.id, **kwargs)


def _recovery_hash(user_id: int, code: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, f"recovery:{user_id}:{code}".encode(), hashlib.sha256).hexdigest()


def _new_recovery_codes(user: User) -> list[str]:
    """Replace every recovery code of ``user`` with new ones; return them for showing once.
    Does not commit."""
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        db.session.add(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(user.id, raw)))
        half = RECOVERY_CODE_LENGTH // 2
        codes.append(f"{raw[:half]}-{raw[half:]}")
    return codes


def _normalize(code: str) -> str:
    return "".join(ch for ch in code if ch not in " -\t").upper()


def _totp_step(user: User, code: str, now: datetime) -> tuple[int | None, bool]:
    """The new time step ``code`` belongs to (None when it matches none), and whether it
    matches a step already used."""
    if not (len(code) == 6 and code.isdigit()):
        return None, False
    totp = pyotp.TOTP(user.totp_secret)
    current = totp.timecode(now)
    window = range(current - TOTP_VALID_WINDOW, current + TOTP_VALID_WINDOW + 1)
    matches = [step for step in window if strings_equal(code, totp.generate_otp(step))]
    fresh = [step for step in matches if user.totp_last_step is None or step > user.totp_last_step]
    return (fresh[0] if fresh else None), bool(matches) and not fresh


def _use_recovery_code(user: User, code: str, now: datetime) -> bool:
    """Mark the unused recovery code ``code`` used; False when there is none."""
    if len(code) != RECOVERY_CODE_LENGTH:
        return False
    given = _recovery_hash(user.id, code)
    rows = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    ).all()
    match = next((row for row in rows if hmac.compare_digest(row.code_hash, given)), None)
    if match is None:
        return False
    # Conditional, so that of two requests racing with one code only one gets it.
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == match.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
    )
    return used.rowcount == 1


def _claim_step(user: User, step: int) -> bool:
    """Record ``step`` as the last one used, unless a racing request got there first."""
    claimed = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return claimed.rowcount == 1


def _check(user: User, code: str, action: str, *, recovery: bool) -> str:
    """Accept ``code`` (or refuse it, counting the failure and committing): APP or RECOVERY."""
    now = utcnow()
    if is_locked(user, now):
        _audit(action, user, outcome="locked")
        db.session.commit()
        raise SecondFactorLocked()
    given = _normalize(code)
    step, reused = _totp_step(user, given, now)
    if step is not None:
        if _claim_step(user, step):
            return APP
        reused = True
    if recovery and _use_recovery_code(user, given, now):
        return RECOVERY
    _audit(action, user, outcome="failure", reason="code reused" if reused else "wrong code")
    locked = count_failure(user, now)
    db.session.commit()
    if locked:
        raise SecondFactorLocked()
    raise SecondFactorReused() if reused else SecondFactorProblem()


# --- enrolment -----------------------------------------------------------------------------


def is_enrolled(user: User) -> bool:
    return user.totp_enabled_at is not None


def forget(user: User) -> None:
    """Forget ``user``'s authenticator app and recovery codes, so that their next sign-in
    sets up a new app (``admin.services.reset_second_factor``). Does not commit."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(
        name=user.phone, issuer_name=current_app.config["PROGRAM_NAME"]
    )


def start_enrolment(user: User) -> tuple[str, str]:
    """The pending secret of ``user`` and its ``otpauth://`` URI, creating the secret once.

    Showing the setup page again gives the same secret, so an app that already scanned it
    keeps working.
    """
    if is_enrolled(user):
        raise AccountError(_l("Your authenticator app is already set up."))
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
        _audit("second_factor.enrolment_started", user)
        db.session.commit()
    return user.totp_secret, provisioning_uri(user, user.totp_secret)


def confirm_enrolment(user: User, code: str, session_token: str | None = None) -> list[str]:
    """Turn the second factor on once the app shows a right code; return new recovery codes
    (shown once). The session of ``session_token``, if any, has then passed the second factor:
    the code just proved the app is at hand."""
    if is_enrolled(user) or not user.totp_secret:
        raise AccountError(_l("Your authenticator app is already set up."))
    _check(user, code, "second_factor.enrolment", recovery=False)
    now = utcnow()
    user.totp_enabled_at = now
    clear_failures(user)
    codes = _new_recovery_codes(user)
    row = live_session(user, session_token)
    if row is not None:
        row.second_factor_at = now
    _audit("second_factor.enabled", user)
    db.session.commit()
    return codes


# --- signing in ----------------------------------------------------------------------------


def verify(user: User, session_token: str | None, code: str) -> str:
    """Check a code from the app, or an unused recovery code, for the session of
    ``session_token``, and mark that session as past the second factor. Returns APP or
    RECOVERY, the kind of code that was used."""
    row = live_session(user, session_token)
    if row is None or not is_enrolled(user):
        raise AccountError()
    method = _check(user, code, "second_factor", recovery=True)
    row.second_factor_at = utcnow()
    clear_failures(user)
    _audit("second_factor", user, reason=method)
    db.session.commit()
    return method


def session_passed(user: User, session_token: str | None) -> bool:
    """Whether the session of ``session_token`` has passed the second factor."""
    row = live_session(user, session_token)
    return row is not None and row.second_factor_at is not None


def recovery_codes_left(user: User) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )


def regenerate_recovery_codes(user: User, code: str) -> list[str]:
    """New recovery codes, replacing every old one, for a right code from the app (a
    recovery code will not do: whoever holds one must not be able to mint more)."""
    if not is_enrolled(user):
        raise AccountError()
    _check(user, code, "second_factor.recovery_codes", recovery=False)
    codes = _new_recovery_codes(user)
    _audit("second_factor.recovery_codes_created", user)
    db.session.commit()
    return codes
