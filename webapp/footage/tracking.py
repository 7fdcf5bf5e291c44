"""What officers and owners see of footage requests (services.py changes them).

The officer sees, for each owner asked, the answer; else "no answer" once the request has
closed; else how the text fared, from its ``OutboundMessage`` (which Twilio's status callbacks
move forward): delivered (or read), failed (or undelivered, or not sent because the number
replied STOP), or sent. Contact details appear only for owners who agreed, and every page view
that shows them is audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ..audit.services import record
from ..cameras.search import distance_m
from ..extensions import db
from ..models import (
    CameraRegistration,
    FootageRecipient,
    FootageRequest,
    OutboundMessage,
    RecipientState,
    User,
)
from ..models.types import utcnow
from .services import NotFound, is_askable, is_open, registrations_by_id

DELIVERED_STATUSES = frozenset({"delivered", "read"})
FAILED_STATUSES = frozenset({"failed", "undelivered", "canceled", "suppressed"})


def shown_state(
    recipient: FootageRecipient, message_status: str | None, closes_at: datetime, now: datetime
) -> str:
    """The state the officer sees: the answer; else "no answer" once closed; else how the text
    fared (the status callbacks move its OutboundMessage forward)."""
    if recipient.state in RecipientState.ANSWERED:
        return recipient.state
    if now >= closes_at:
        return RecipientState.NO_ANSWER
    if message_status in DELIVERED_STATUSES:
        return RecipientState.DELIVERED
    if message_status in FAILED_STATUSES:
        return RecipientState.FAILED
    return RecipientState.SENT


@dataclass(frozen=True)
class Chosen:
    """A registration the officer chose on the search page, as the request form lists it."""

    registration: CameraRegistration
    distance_m: float | None  # None: the registration has no coordinates (not approved)
    askable: bool


def chosen_registrations(ids: list[int], latitude: float, longitude: float) -> list[Chosen]:
    """The chosen registrations (unknown ids left out), nearest first. Shows no contact
    details: the form lists kind, distance and cameras only."""
    now = utcnow()
    rows = registrations_by_id(ids)
    chosen = [
        Chosen(r, distance_m(latitude, longitude, r.latitude, r.longitude), is_askable(r, now))
        if r.latitude is not None and r.longitude is not None
        else Chosen(r, None, False)
        for r in rows
    ]
    located_first = sorted(chosen, key=lambda c: (c.distance_m or 0.0, c.registration.id))
    return sorted(located_first, key=lambda c: c.distance_m is None)


# --- the officer ------------------------------------------------------------------------------


def own_requests(officer: User) -> list[FootageRequest]:
    return list(
        db.session.scalars(
            select(FootageRequest)
            .where(FootageRequest.officer_id == officer.id)
            .order_by(FootageRequest.id.desc())
        )
    )


def get_own_request(officer: User, request_id: int) -> FootageRequest:
    footage_request = db.session.get(FootageRequest, request_id)
    if footage_request is None or footage_request.officer_id != officer.id:
        raise NotFound()
    return footage_request


@dataclass(frozen=True)
class Contact:
    """What an owner who said YES lets the officer see."""

    phone: str | None
    email: str | None
    business_name: str | None
    contact_name: str | None
    contact_phone: str | None
    address: str | None


@dataclass(frozen=True)
class RecipientView:
    recipient: FootageRecipient
    kind: str | None
    state: str
    contact: Contact | None  # only for owners who agreed


@dataclass(frozen=True)
class RequestView:
    request: FootageRequest
    recipients: list[RecipientView]
    is_open: bool

    @property
    def waiting(self) -> bool:
        """Some owner may still answer: worth refreshing the page for."""
        answered = (*RecipientState.ANSWERED, RecipientState.NO_ANSWER)
        return self.is_open and any(v.state not in answered for v in self.recipients)

    def count(self, state: str) -> int:
        return sum(1 for v in self.recipients if v.state == state)


def states(footage_request: FootageRequest, now: datetime | None = None) -> list[str]:
    """The shown state of each recipient (for the officer's list of requests)."""
    now = now or utcnow()
    statuses = _message_statuses(footage_request.recipients)
    return [
        shown_state(r, statuses.get(r.message_id), footage_request.closes_at, now)
        for r in footage_request.recipients
    ]


def request_view(officer: User, request_id: int) -> RequestView:
    """The officer's page of one request. Showing any owner's contact details is audited, with
    the recipients whose details were shown."""
    footage_request = get_own_request(officer, request_id)
    now = utcnow()
    statuses = _message_statuses(footage_request.recipients)
    views = []
    for recipient in footage_request.recipients:
        registration = (
            db.session.get(CameraRegistration, recipient.registration_id)
            if recipient.registration_id
            else None
        )
        state = shown_state(recipient, statuses.get(recipient.message_id),
                            footage_request.closes_at, now)  # fmt: skip
        contact = _contact(recipient, registration) if state == RecipientState.AGREED else None
        views.append(RecipientView(recipient, registration.kind if registration else None,
                                   state, contact))  # fmt: skip
    shown = [v.recipient.id for v in views if v.contact is not None]
    if shown:
        record(
            "footage.contacts_viewed", actor=officer, subject_type="footage_request",
            subject_id=footage_request.id,
            reason=f"case {footage_request.case_number}; recipients "
            + ",".join(map(str, shown)),
        )  # fmt: skip
        db.session.commit()
    return RequestView(footage_request, views, is_open(footage_request, now))


def _message_statuses(recipients: list[FootageRecipient]) -> dict[int, str]:
    ids = {r.message_id for r in recipients if r.message_id is not None}
    if not ids:
        return {}
    rows = db.session.execute(
        select(OutboundMessage.id, OutboundMessage.status).where(OutboundMessage.id.in_(ids))
    )
    return {message_id: status for message_id, status in rows}


def _contact(recipient: FootageRecipient, registration: CameraRegistration | None) -> Contact:
    owner = db.session.get(User, recipient.owner_id) if recipient.owner_id else None
    address = None
    email = None
    business_name = contact_name = contact_phone = None
    if registration is not None:
        parts = [registration.street, registration.unit, registration.city,
                 f"{registration.state} {registration.zip_code}"]  # fmt: skip
        address = ", ".join(p for p in parts if p)
        email = registration.email if "email" in registration.methods else None
        if registration.is_business:
            business_name = registration.business_name
            contact_name = registration.contact_name
            contact_phone = registration.contact_phone
    return Contact(owner.phone if owner else None, email, business_name, contact_name,
                   contact_phone, address)  # fmt: skip


# --- the owner --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerRequest:
    request: FootageRequest
    recipients: list[FootageRecipient]  # this owner's, one per registration asked
    registrations: list[CameraRegistration]

    @property
    def answer(self) -> str | None:
        state = self.recipients[0].state
        return state if state in RecipientState.ANSWERED else None


def open_requests_for(owner: User) -> list[OwnerRequest]:
    """The owner's open requests, newest first, with which of their registrations were asked."""
    now = utcnow()
    recipients = db.session.scalars(
        select(FootageRecipient)
        .join(FootageRequest, FootageRequest.id == FootageRecipient.request_id)
        .where(FootageRecipient.owner_id == owner.id, FootageRequest.closes_at > now)
        .order_by(FootageRequest.id.desc(), FootageRecipient.id)
    ).all()
    grouped: dict[int, list[FootageRecipient]] = defaultdict(list)
    for recipient in recipients:
        grouped[recipient.request_id].append(recipient)
    result = []
    for request_id, rows in grouped.items():
        registrations = [
            db.session.get(CameraRegistration, r.registration_id)
            for r in rows
            if r.registration_id is not None
        ]
        result.append(OwnerRequest(db.session.get(FootageRequest, request_id), rows,
                                   [r for r in registrations if r is not None]))  # fmt: skip
    return result


def own_recipient(owner: User, recipient_id: int) -> FootageRecipient:
    recipient = db.session.get(FootageRecipient, recipient_id)
    if recipient is None or recipient.owner_id != owner.id:
        raise NotFound()
    return recipient
