"""The owner's camera pages, the printable placard, and the public placard check."""

from __future__ import annotations

import segno
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.forms import EmptyForm
from ..errors import ServiceError
from ..extensions import db, limiter
from ..models import RegistrationStatus
from ..profiles.services import profile_for
from ..views import verified_required
from . import bp, services
from .forms import (
    LABELS,
    BusinessEditForm,
    BusinessRegistrationForm,
    BusinessSystemForm,
    HomeEditForm,
    HomeRegistrationForm,
    HomeSystemForm,
)
from .renewal import renewal

KIND = "<any(home, business):kind>"
REGISTER_FORMS = {"home": HomeRegistrationForm, "business": BusinessRegistrationForm}
EDIT_FORMS = {"home": HomeEditForm, "business": BusinessEditForm}
SYSTEM_FORMS = {"home": HomeSystemForm, "business": BusinessSystemForm}
PAPER = {"letter": "letter", "a4": "A4"}


STATUS_LABELS = {
    RegistrationStatus.PENDING: _l("Waiting for a moderator"),
    RegistrationStatus.CHANGES_REQUESTED: _l("Changes asked for"),
    RegistrationStatus.APPROVED: _l("Approved"),
    RegistrationStatus.REJECTED: _l("Not approved"),
}
EVENT_LABELS = {
    "submitted": _l("Registered"),
    "resubmitted": _l("Sent back to the moderator"),
    "address_changed": _l("Address changed; sent back to the moderator"),
    "edited": _l("Changed"),
    "approve": _l("Approved"),
    "reject": _l("Not approved"),
    "request_changes": _l("Changes asked for"),
    "paused": _l("Requests paused"),
    "resumed": _l("Requests welcome again"),
    "renewed": _l("Renewed"),
}


@bp.app_template_global()
def camera_label(kind: str, value: str | None) -> str:
    """The translated label of a stored choice (``kind`` is a key of ``forms.LABELS``)."""
    return str(LABELS[kind].get(value, value or ""))


@bp.app_template_global()
def registration_status(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


@bp.app_template_global()
def camera_event(action: str) -> str:
    return str(EVENT_LABELS.get(action, action))


@bp.app_template_filter()
def camera_view(value: str) -> str:
    return camera_label("views", value)


@bp.app_template_filter()
def camera_method(value: str) -> str:
    return camera_label("contact_methods", value)


def _own_or_404(registration_id: int):
    try:
        return services.get_own(current_user, registration_id)
    except services.NotFound:
        abort(404)


@bp.route("/")
@verified_required
def index():
    return render_template(
        "cameras/index.html", registrations=services.own_registrations(current_user)
    )


@bp.route(f"/new/{KIND}", methods=["GET", "POST"])
@verified_required
def register(kind: str):
    form = REGISTER_FORMS[kind]()
    if not form.is_submitted():  # start from the profile's address, when there is one
        profile = profile_for(current_user)
        if profile.has_address:
            for name in services.ADDRESS_FIELDS:
                form[name].data = getattr(profile, name)
    if form.validate_on_submit():
        values, system = form.split()
        willing = bool(values.pop("willing"))
        registration = services.register(current_user, kind, values, system, willing=willing)
        flash(_("Thank you. A moderator will check your registration; we will text you."),
              "success")  # fmt: skip
        return redirect(url_for("cameras.show", registration_id=registration.id))
    title = _("Register your home cameras") if kind == "home" else _("Register a business")
    return render_template("cameras/register.html", form=form, title=title, kind=kind,
                           terms_version=services.TERMS_VERSION)  # fmt: skip


@bp.route("/<int:registration_id>")
@verified_required
def show(registration_id: int):
    registration = _own_or_404(registration_id)
    decisions = [e for e in registration.events if e.reason and e.action in
                 ("reject", "request_changes")]  # fmt: skip
    return render_template(
        "cameras/show.html",
        registration=registration,
        renewal=renewal(registration),
        last_decision=decisions[-1] if decisions else None,
        action=EmptyForm(),
    )


@bp.route("/<int:registration_id>/edit", methods=["GET", "POST"])
@verified_required
def edit(registration_id: int):
    registration = _own_or_404(registration_id)
    form = EDIT_FORMS[registration.kind](obj=registration)
    if not form.is_submitted():
        form.contact_methods.data = registration.methods
    if form.validate_on_submit():
        was_approved = registration.status == RegistrationStatus.APPROVED
        registration = services.update(current_user, registration_id, form.data_for_model())
        if was_approved and registration.status == RegistrationStatus.PENDING:
            flash(_("Saved. The new address goes to a moderator to check; police search leaves "
                    "this registration out until then."), "success")  # fmt: skip
        else:
            flash(_("Saved."), "success")
        return redirect(url_for("cameras.show", registration_id=registration_id))
    return render_template("cameras/form.html", form=form, registration=registration,
                           title=_("Change your registration"))  # fmt: skip


@bp.route("/<int:registration_id>/systems/new", methods=["GET", "POST"],
          defaults={"system_id": None})  # fmt: skip
@bp.route("/<int:registration_id>/systems/<int:system_id>", methods=["GET", "POST"])
@verified_required
def system(registration_id: int, system_id: int | None):
    registration = _own_or_404(registration_id)
    existing = None
    if system_id is not None:
        try:
            existing = services.get_system(current_user, registration_id, system_id)
        except services.NotFound:
            abort(404)
    form = SYSTEM_FORMS[registration.kind](obj=existing)
    if form.validate_on_submit():
        values = form.split()[1]
        services.save_system(current_user, registration_id, values, system_id)
        flash(_("Saved."), "success")
        return redirect(url_for("cameras.show", registration_id=registration_id))
    title = _("Change these cameras") if existing else _("Add more cameras")
    return render_template("cameras/form.html", form=form, registration=registration, title=title)


@bp.route("/<int:registration_id>/systems/<int:system_id>/remove", methods=["POST"])
@verified_required
def remove_system(registration_id: int, system_id: int):
    _own_or_404(registration_id)
    if EmptyForm().validate_on_submit():
        try:
            services.remove_system(current_user, registration_id, system_id)
        except services.NotFound:
            abort(404)
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("Removed."), "success")
    return redirect(url_for("cameras.show", registration_id=registration_id))


@bp.route("/<int:registration_id>/<any(pause, resume):choice>", methods=["POST"])
@verified_required
def willing(registration_id: int, choice: str):
    _own_or_404(registration_id)
    if EmptyForm().validate_on_submit():
        services.set_willing(current_user, choice == "resume", registration_id=registration_id)
        db.session.commit()
        if choice == "resume":
            flash(_("The police may ask you for footage again."), "success")
        else:
            flash(_("Paused. The police will not ask you for footage."), "success")
    return redirect(url_for("cameras.show", registration_id=registration_id))


@bp.route("/<int:registration_id>/renew", methods=["POST"])
@verified_required
def renew(registration_id: int):
    _own_or_404(registration_id)
    if EmptyForm().validate_on_submit():
        renewed = services.renew(current_user, registration_id=registration_id)
        db.session.commit()
        if renewed:
            flash(_("Thank you. Your registration is renewed for a year."), "success")
    return redirect(url_for("cameras.show", registration_id=registration_id))


@bp.route("/<int:registration_id>/withdraw", methods=["GET", "POST"])
@verified_required
def withdraw(registration_id: int):
    registration = _own_or_404(registration_id)
    form = EmptyForm()
    if form.validate_on_submit():
        services.withdraw(current_user, registration_id)
        flash(_("Your registration is withdrawn and deleted."), "success")
        return redirect(url_for("cameras.index"))
    return render_template("cameras/withdraw.html", form=form, registration=registration)


@bp.route("/<int:registration_id>/placard")
@verified_required
def placard(registration_id: int):
    registration = _own_or_404(registration_id)
    if registration.status != RegistrationStatus.APPROVED:
        abort(404)
    paper = request.args.get("paper", "letter")
    if paper not in PAPER:
        paper = "letter"
    check_url = url_for("cameras.check_number", number=registration.number, _external=True)
    qr = segno.make(check_url, error="m").svg_inline(scale=6, omitsize=True, title=None)
    # The owner's language first, then English, when they differ.
    locales = [current_user.locale] + (["en"] if current_user.locale != "en" else [])
    sides = []
    for locale in locales:
        with force_locale(locale):
            sides.append(_placard_texts())
    return render_template(
        "cameras/placard.html", registration=registration, qr=qr, check_url=check_url,
        sides=sides, locales=locales, paper=paper, page_size=PAPER[paper],
    )  # fmt: skip


def _placard_texts() -> dict[str, str]:
    return {
        "title": _("Registered security camera"),
        "body": _("This place's cameras are registered with the city. The owner may share "
                  "footage with the police when asked. The police cannot see these cameras."),
        "number": _("Registration number"),
        "check": _("Scan to check this number"),
    }  # fmt: skip


CHECK_LIMIT = "30 per minute;300 per hour"  # enough for people, slow for enumeration


@bp.route("/check")
@limiter.limit(CHECK_LIMIT)
def check():
    """The public placard check: says only whether a number is a valid registration."""
    number = request.args.get("number", "").strip()
    if number:
        return redirect(url_for("cameras.check_number", number=number[:40]))
    return render_template("cameras/check.html", number=None, valid=None)


@bp.route("/check/<number>")
@limiter.limit(CHECK_LIMIT)
def check_number(number: str):
    return render_template(
        "cameras/check.html",
        number=services.normalise_number(number) or number[:40],
        valid=services.is_valid_number(number),
    )
