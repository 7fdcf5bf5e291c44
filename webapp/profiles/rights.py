"""The resident's rights: see who looked, download everything, delete everything."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy import inspect as sa_inspect
from werkzeug.security import check_password_hash

from ..accounts.errors import WrongPassword
from ..audit.services import record
from ..cameras.services import own_registrations
from ..extensions import db
from ..models import (
    AuditEvent,
    ConsentRecord,
    EmergencyMessage,
    FootageRecipient,
    FootageRequest,
    InboundMessage,
    OutboundMessage,
    Profile,
    User,
)
from ..sms.services import record_sms_consent, sms_opted_out
from .freshness import freshness
from .services import ITEM_MODELS


def access_history(user: User) -> list[AuditEvent]:
    """Every dispatcher look-up of this resident's profile, newest first."""
    return db.session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.action == "profile.viewed",
            AuditEvent.subject_type == "user",
            AuditEvent.subject_id == user.id,
        )
        .order_by(AuditEvent.id.desc())
    ).all()


def _when(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _columns(row, skip=("id", "profile_id", "user_id")) -> dict[str, Any]:
    """A row's mapped columns (decrypted) by column name, for the export."""
    out = {}
    for attr in sa_inspect(row).mapper.column_attrs:
        name = attr.columns[0].name
        if name in skip:
            continue
        value = getattr(row, attr.key)
        out[name] = _when(value) if isinstance(value, datetime) else value
    return out


def export_data(user: User) -> dict[str, Any]:
    """Everything held about ``user``, as JSON-ready data. The export itself is audited."""
    profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
    phones = {user.phone} | ({p.phone for p in profile.phones} if profile else set())
    consents = db.session.scalars(
        select(ConsentRecord)
        .where(or_(ConsentRecord.user_id == user.id, ConsentRecord.phone.in_(phones)))
        .order_by(ConsentRecord.id)
    ).all()
    messages = db.session.scalars(
        select(OutboundMessage).where(OutboundMessage.to.in_(phones)).order_by(OutboundMessage.id)
    ).all()
    received = db.session.scalars(
        select(InboundMessage)
        .where(InboundMessage.from_number.in_(phones))
        .order_by(InboundMessage.id)
    ).all()
    asked = db.session.execute(
        select(FootageRecipient, FootageRequest)
        .join(FootageRequest, FootageRecipient.request_id == FootageRequest.id)
        .where(FootageRecipient.owner_id == user.id)
        .order_by(FootageRecipient.id)
    ).all()
    data: dict[str, Any] = {
        "account": {
            "phone": user.phone,
            "phone_verified_at": _when(user.phone_verified_at),
            "email": user.email,
            "language": user.locale,
            "created_at": _when(user.created_at),
        },
        "profile": None,
        "consents": [_columns(c) for c in consents],
        "camera_registrations": [
            {
                **_columns(r, skip=("user_id",)),
                "systems": [_columns(s, skip=("id", "registration_id")) for s in r.systems],
                "history": [
                    _columns(e, skip=("id", "registration_id", "actor_id")) for e in r.events
                ],
            }
            for r in own_registrations(user)
        ],
        "text_messages": [
            {"to": m.to, "body": m.body, "status": m.status, "created_at": _when(m.created_at)}
            for m in messages
        ],
        "texts_received": [
            {
                "from": m.from_number,
                "body": m.body,
                "received_at": _when(m.received_at),
                "command": m.command,
                "reply": m.reply,
            }
            for m in received
        ],
        "footage_requests": [
            {
                "case_number": request.case_number,
                "asked_at": _when(request.created_at),
                "code": recipient.code,
                "state": recipient.state,
                "answered_at": _when(recipient.answered_at),
                "answered_by": recipient.answer_channel,
                "note": recipient.note,
            }
            for recipient, request in asked
        ],
        "profile_views": [
            {"when": _when(e.created_at), "agency": e.agency, "incident": e.reason}
            for e in access_history(user)
        ],
    }
    if profile is not None:
        fresh = freshness(profile)
        data["profile"] = {
            **_columns(profile),
            "state": fresh.state,
            **{
                section: [_columns(item) for item in getattr(profile, section)]
                for section in ITEM_MODELS
            },
            "phones": [_columns(p) for p in profile.phones],
        }
    record("account.exported", actor=user, subject_type="user", subject_id=user.id)
    db.session.commit()
    return data


def delete_account(user: User, password: str) -> None:
    """Delete the account and everything tied to it. Audit rows keep only the numeric id."""
    if not check_password_hash(user.password_hash, password):
        record("account.delete", outcome="failure", actor=user, subject_type="user",
               subject_id=user.id, reason="wrong password")  # fmt: skip
        db.session.commit()
        raise WrongPassword()
    profile = db.session.scalar(select(Profile).where(Profile.user_id == user.id))
    phones = {user.phone} | ({p.phone for p in profile.phones} if profile else set())
    user_id = user.id
    stopped = {phone for phone in phones if sms_opted_out(phone)}
    db.session.execute(delete(OutboundMessage).where(OutboundMessage.to.in_(phones)))
    # The resident's own texts go too, except those filed in an emergency session: those are
    # the 911 center's record of a call for help, kept under its rules, not the registry's.
    filed = select(EmergencyMessage.inbound_message_id).where(
        EmergencyMessage.inbound_message_id.is_not(None)
    )
    db.session.execute(
        delete(InboundMessage).where(
            InboundMessage.from_number.in_(phones), InboundMessage.id.not_in(filed)
        )
    )
    db.session.execute(
        delete(ConsentRecord).where(
            or_(ConsentRecord.user_id == user_id, ConsentRecord.phone.in_(phones))
        )
    )
    # The one thing kept: a number that said STOP stays stopped (a suppression list entry,
    # with no link to the deleted account), so deleting never restarts texts.
    for phone in stopped:
        record_sms_consent(phone, False, channel="account_deleted")
    db.session.delete(user)  # cascades: sessions, codes, profile and all its sections
    db.session.flush()
    record("account.deleted", actor=None, subject_type="user", subject_id=user_id)
    db.session.commit()
