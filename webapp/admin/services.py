"""Accounts in the admin console: find, create staff, change roles, disable and re-enable.

Each function that changes something is one unit of work: it commits, or it raises an
``AccountError`` whose (translated) message the admin reads. Audit rows get ids and roles,
never phone numbers. Nothing here reads a safety profile: admins run accounts, not profiles.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, false, func, select

from ..accounts import second_factor
from ..accounts.errors import AccountError, PhoneTaken
from ..accounts.services import change_role, create_account, revoke_all_sessions
from ..audit.services import record
from ..extensions import db
from ..models import Role, User
from ..models.types import utcnow
from ..phones import InvalidPhoneNumber, to_e164
from ..sms.services import send_text

PER_PAGE = 50
STAFF_ROLES = tuple(role for role in Role if role.is_staff)
ALL_ROLES = "all"  # the role filter's value for "any role, residents too"


class NotFound(LookupError):
    pass


class CannotChangeOwnAccount(AccountError):
    """An admin demoting or disabling themselves could lock every admin out."""


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    pages: int
    total: int


def paginate(query: Select, page: int, per_page: int = PER_PAGE) -> Page:
    """One page of ``query`` (already ordered); ``page`` is clamped to the pages there are."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, math.ceil(total / per_page))
    page = min(max(page, 1), pages)
    items = db.session.scalars(query.offset((page - 1) * per_page).limit(per_page)).all()
    return Page(list(items), page, pages, total)


# --- finding accounts ----------------------------------------------------------------------


def list_accounts(*, role: str = "", phone: str = "", page: int = 1) -> Page:
    """Accounts, newest first. ``role``: a role's value, ``""`` for every staff role, or
    ``"all"``. ``phone``: a whole number as typed matches exactly; a few digits match any
    number containing them."""
    query = select(User)
    if role == ALL_ROLES:
        pass
    elif role in {r.value for r in Role}:
        query = query.where(User.role == role)
    else:
        query = query.where(User.role.in_([r.value for r in STAFF_ROLES]))
    phone = phone.strip()
    if phone:
        try:
            query = query.where(
                User.phone == to_e164(phone, current_app.config["SMS_DEFAULT_REGION"])
            )
        except InvalidPhoneNumber:
            digits = re.sub(r"\D", "", phone)[:16]
            # Digits only, so nothing in the pattern can act as a LIKE wildcard.
            query = query.where(User.phone.contains(digits)) if digits else query.where(false())
    return paginate(query.order_by(User.id.desc()), page)


def get_account(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(user_id)
    return user


def open_account(actor: User, user_id: int) -> User:
    """The account page shows a phone number: opening it is recorded."""
    user = get_account(user_id)
    record("account.viewed", actor=actor, subject_type="user", subject_id=user.id)
    db.session.commit()
    return user


# --- changing accounts ---------------------------------------------------------------------


def create_staff(*, phone: str, role: Role, password: str, locale: str) -> User:
    """A staff account with a temporary password; its phone counts as verified because the
    admin vouches for it (as with ``flask users create``). Audited as ``staff.created``."""
    if not role.is_staff:
        raise AccountError(_l("Choose a staff role."), field="role")
    try:
        return create_account(phone=phone, role=role, password=password, locale=locale)
    except PhoneTaken:
        raise AccountError(
            _l("An account already uses this phone number."), field="phone"
        ) from None


def change_user_role(actor: User, user_id: int, role: Role) -> User:
    """Give ``role`` to an account; its sessions end so the new role applies at once."""
    user = get_account(user_id)
    if user.id == actor.id and role is not Role.ADMIN:
        raise CannotChangeOwnAccount(
            _l("You cannot take away your own administrator role. Ask another administrator."),
            field="role",
        )
    if user.role == role.value:
        raise AccountError(_l("The account already has this role."), field="role")
    change_role(user, role, actor=actor)  # revokes its sessions, records role.changed, commits
    return user


def disable_account(actor: User, user_id: int) -> User:
    """Stop an account from signing in and sign it out everywhere, at once."""
    user = get_account(user_id)
    if user.id == actor.id:
        raise CannotChangeOwnAccount(
            _l("You cannot disable your own account. Ask another administrator.")
        )
    if user.disabled_at is None:
        user.disabled_at = utcnow()
        record("account.disabled", actor=actor, subject_type="user", subject_id=user.id)
    # Even when already disabled: no session of a disabled account may stay alive.
    revoke_all_sessions(user)
    db.session.commit()
    return user


def reset_second_factor(actor: User, user_id: int) -> User:
    """For a staff member who lost both their authenticator app and their recovery codes:
    forget the app and the codes, and sign the account out everywhere. At the next sign-in,
    password first, they set up a new app. They are told by text at once, so that a reset
    they did not ask for does not go unnoticed. (The admin checks who is asking before this,
    in person or by calling back the number on file: docs/security.md, "The staff second
    factor".)"""
    user = get_account(user_id)
    if user.id == actor.id:
        raise CannotChangeOwnAccount(
            _l("You cannot reset your own two-step verification. Ask another administrator.")
        )
    if user.totp_secret is None and user.totp_enabled_at is None:
        raise AccountError(_l("This account has no two-step verification to reset."))
    second_factor.forget(user)
    revoke_all_sessions(user)
    record("second_factor.reset", actor=actor, subject_type="user", subject_id=user.id)
    send_text(user.phone, "second_factor_reset", user.locale)
    db.session.commit()
    return user


def enable_account(actor: User, user_id: int) -> User:
    """Let a disabled account sign in again (its old sessions stay ended)."""
    user = get_account(user_id)
    if user.disabled_at is not None:
        user.disabled_at = None
        record("account.enabled", actor=actor, subject_type="user", subject_id=user.id)
        db.session.commit()
    return user
