"""Camera registrations made through the pages, and their moderation."""

from __future__ import annotations

from sqlalchemy import select

from webapp.extensions import db
from webapp.models import CameraRegistration, Role, User

from .web import submit

HOME = {
    "street": "1200 W Madison St",
    "unit": "",
    "city": "Chicago",
    "state": "IL",
    "zip_code": "60607",
    "camera_count": "2",
    "views": ["front_door", "street"],
    "recording": "motion",
    "retention_days": "14",
    "can_export": "y",
    "contact_methods": ["sms"],
    "email": "",
    "willing": "y",
    "agree_terms": "y",
}
BUSINESS = {
    **HOME,
    "street": "55 E Randolph St",
    "zip_code": "60601",
    "business_name": "Corner Bakery",
    "business_type": "restaurant",
    "hours": "Mon-Sat 7-19",
    "contact_name": "Dana Rivera",
    "contact_phone": "(312) 555-0177",
    "placard_wanted": "y",
    "placement": "both",
    "camera_count": "6",
    "views": ["front_door", "interior", "alley"],
    "recording": "continuous",
    "retention_days": "30",
}


def register(client, kind="home", **changes):
    data = {**(HOME if kind == "home" else BUSINESS), **changes}
    data = {k: v for k, v in data.items() if v is not None}
    return submit(client, f"/cameras/new/{kind}", data)


def registration_of(app, user_id) -> CameraRegistration:
    with app.app_context():
        registration = db.session.scalars(
            select(CameraRegistration).where(CameraRegistration.user_id == user_id)
        ).first()
        assert registration is not None
        registration.systems  # load before the session closes  # noqa: B018
        db.session.expunge(registration)
        return registration


def approve(app, sign_in_as, registration_id, lat="41.8819", lon="-87.6278", **extra):
    moderator, _ = sign_in_as(Role.MODERATOR)
    return submit(
        moderator,
        f"/staff/moderation/{registration_id}",
        {"latitude": lat, "longitude": lon, "reason": "", "action": "approve", **extra},
    )


def registered(app, owner_id: int, kind: str = "home", *, address: dict, system: dict,
               willing: bool = True, approved_by: int | None = None,
               at: tuple[float, float] | None = None) -> int:  # fmt: skip
    """A registration made through the camera services (the pages have tests of their own)
    in Chicago, answered by text; approved by the staff member ``approved_by`` at ``at`` when
    given. Returns its id."""
    from webapp.cameras import services

    with app.test_request_context():
        owner = db.session.get(User, owner_id)
        address = {"city": "Chicago", "state": "IL", "contact_methods": "sms", **address}
        registration = services.register(owner, kind, address, system, willing=willing)
        if approved_by is not None:
            moderator = db.session.get(User, approved_by)
            services.moderate(
                moderator, registration.id, "approve", latitude=at[0], longitude=at[1]
            )
        return registration.id


def register_approved(app, sign_in_as, client, user_id: int, kind="home") -> CameraRegistration:
    """Register through the pages on ``client`` (signed in as ``user_id``), then have a
    moderator approve it; returns the registration as approved."""
    register(client, kind)
    approve(app, sign_in_as, registration_of(app, user_id).id)
    return registration_of(app, user_id)
