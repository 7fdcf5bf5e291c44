"""Profile pages: one topic per page, saved as the resident goes, ending in a summary.

The four list sections (members, pets, vehicles, contacts) share one set of views.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..accounts.forms import EmptyForm
from ..errors import ServiceError
from ..extensions import db, limiter
from ..views import CODE_CHECK_LIMIT, CODE_SEND_LIMIT, attach_error, verified_required
from . import bp, services
from .forms import (
    AddPhoneForm,
    ContactForm,
    HomeForm,
    MemberForm,
    PetForm,
    PhoneCodeForm,
    SharingForm,
    VehicleForm,
)
from .freshness import freshness


@dataclass(frozen=True)
class ListSection:
    title: object
    add_label: object
    empty: object
    form: type
    summary: Callable[[object], str]


LIST_SECTIONS = {
    "members": ListSection(
        _l("Household members"), _l("Add a person"), _l("No one added yet."), MemberForm,
        lambda m: m.name or "",
    ),
    "pets": ListSection(
        _l("Pets and service animals"), _l("Add an animal"), _l("No animals added."), PetForm,
        lambda p: ", ".join(x for x in (p.name, p.kind) if x),
    ),
    "vehicles": ListSection(
        _l("Vehicles"), _l("Add a vehicle"), _l("No vehicles added."), VehicleForm,
        lambda v: " ".join(x for x in (v.colour, v.make, v.model, v.plate) if x),
    ),
    "contacts": ListSection(
        _l("Emergency contacts"), _l("Add a contact"), _l("No contacts added."), ContactForm,
        lambda c: f"{c.name} ({c.phone})",
    ),
}  # fmt: skip
STEPS = ["home", "members", "pets", "vehicles", "contacts", "phones", "sharing"]
SECTION = "<any(members, pets, vehicles, contacts):section>"


def _step_url(step: str) -> str:
    if step in LIST_SECTIONS:
        return url_for("profiles.section", section=step)
    return url_for(f"profiles.{step}")


def next_url(step: str) -> str:
    index = STEPS.index(step)
    return _step_url(STEPS[index + 1]) if index + 1 < len(STEPS) else url_for("profiles.overview")


def _item_or_404(section: str, item_id: int):
    try:
        return services.get_item(current_user, section, item_id)
    except services.NotFound:
        abort(404)


@bp.app_template_global()
def profile_step_url(step: str) -> str:
    return _step_url(step)


@bp.route("/")
@verified_required
def overview():
    profile = services.profile_for(current_user)
    return render_template(
        "profiles/overview.html",
        profile=profile,
        fresh=freshness(profile),
        sections=LIST_SECTIONS,
        confirm_form=EmptyForm(),
        home_form=HomeForm(obj=profile),
        member_form=MemberForm,
    )


@bp.route("/home", methods=["GET", "POST"])
@verified_required
def home():
    profile = services.profile_for(current_user)
    form = HomeForm(obj=profile)
    if not profile.street and not form.is_submitted():  # the city's own defaults
        form.city.data = current_app.config["DEFAULT_CITY"]
        form.state.data = current_app.config["DEFAULT_STATE"]
    if form.validate_on_submit():
        services.save_home(current_user, form.data_for_model())
        flash(_("Saved."), "success")
        return redirect(next_url("home"))
    return render_template("profiles/form.html", form=form, title=_("Your home"), step="home")


@bp.route(f"/{SECTION}")
@verified_required
def section(section: str):
    profile = services.profile_for(current_user)
    return render_template(
        "profiles/section.html",
        section=section,
        spec=LIST_SECTIONS[section],
        items=getattr(profile, section),
        next_url=next_url(section),
    )


@bp.route(f"/{SECTION}/new", methods=["GET", "POST"], defaults={"item_id": None})
@bp.route(f"/{SECTION}/<int:item_id>", methods=["GET", "POST"])
@verified_required
def item(section: str, item_id: int | None):
    spec = LIST_SECTIONS[section]
    existing = _item_or_404(section, item_id) if item_id is not None else None
    form = spec.form(obj=existing)
    if form.validate_on_submit():
        services.save_item(current_user, section, form.data_for_model(), item_id)
        flash(_("Saved."), "success")
        return redirect(url_for("profiles.section", section=section))
    title = spec.summary(existing) if existing else spec.add_label
    return render_template("profiles/form.html", form=form, title=title, step=section, back=section)


@bp.route(f"/{SECTION}/<int:item_id>/remove", methods=["GET", "POST"])
@verified_required
def remove_item(section: str, item_id: int):
    existing = _item_or_404(section, item_id)
    form = EmptyForm()
    if form.validate_on_submit():
        services.remove_item(current_user, section, item_id)
        flash(_("Removed."), "success")
        return redirect(url_for("profiles.section", section=section))
    return render_template(
        "profiles/remove.html",
        form=form,
        name=LIST_SECTIONS[section].summary(existing),
        back=url_for("profiles.section", section=section),
    )


@bp.route("/phones", methods=["GET", "POST"])
@verified_required
@limiter.limit(CODE_SEND_LIMIT, methods=["POST"])
def phones():
    profile = services.profile_for(current_user)
    form = AddPhoneForm()
    if form.validate_on_submit():
        try:
            entry = services.add_phone(current_user, form.phone.e164)
        except ServiceError as error:
            attach_error(form, error)
        else:
            return redirect(url_for("profiles.verify_phone", phone_id=entry.id))
    return render_template(
        "profiles/phones.html", form=form, profile=profile, action=EmptyForm(),
        next_url=next_url("phones"),
    )  # fmt: skip


@bp.route("/phones/<int:phone_id>/verify", methods=["GET", "POST"])
@verified_required
@limiter.limit(CODE_CHECK_LIMIT, methods=["POST"])
def verify_phone(phone_id: int):
    entry = _own_phone_or_404(phone_id)
    form = PhoneCodeForm()
    if form.validate_on_submit():
        try:
            services.verify_phone(current_user, phone_id, form.code.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(_("The phone number is verified."), "success")
            return redirect(url_for("profiles.phones"))
    return render_template("profiles/phone_verify.html", form=form, entry=entry, resend=EmptyForm())


@bp.route("/phones/<int:phone_id>/resend", methods=["POST"])
@verified_required
@limiter.limit(CODE_SEND_LIMIT)
def resend_phone_code(phone_id: int):
    _own_phone_or_404(phone_id)
    if EmptyForm().validate_on_submit():
        try:
            services.resend_phone_code(current_user, phone_id)
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            flash(_("We sent a new code."), "success")
    return redirect(url_for("profiles.verify_phone", phone_id=phone_id))


@bp.route("/phones/<int:phone_id>/remove", methods=["POST"])
@verified_required
def remove_phone(phone_id: int):
    _own_phone_or_404(phone_id)
    if EmptyForm().validate_on_submit():
        services.remove_phone(current_user, phone_id)
        flash(_("Removed."), "success")
    return redirect(url_for("profiles.phones"))


def _own_phone_or_404(phone_id: int):
    try:
        return services.own_phone(current_user, phone_id)
    except services.NotFound:
        abort(404)


@bp.route("/sharing", methods=["GET", "POST"])
@verified_required
def sharing():
    profile = services.profile_for(current_user)
    form = SharingForm(obj=profile)
    if form.validate_on_submit():
        services.set_sharing(
            current_user,
            share_with_911=form.share_with_911.data,
            emergency_planning=form.emergency_planning.data,
        )
        flash(_("Saved."), "success")
        return redirect(url_for("profiles.overview"))
    return render_template("profiles/sharing.html", form=form)


@bp.route("/confirm", methods=["POST"])
@verified_required
def confirm():
    if EmptyForm().validate_on_submit():
        try:
            services.confirm(current_user, channel="web")
            db.session.commit()
        except services.ProfileIncomplete as error:
            flash(str(error.message), "error")
        else:
            flash(_("Thank you. Your profile is confirmed for the next 6 months."), "success")
    return redirect(url_for("profiles.overview"))


@bp.app_template_global()
def answer_rows(form) -> list[tuple[object, str]]:
    """(label, answer as the resident reads it) for each filled field, for summaries."""
    rows = []
    for field in form:
        if field.name == "csrf_token" or field.data in (None, "", [], False):
            continue
        if field.type == "BooleanField":
            shown = _("Yes")
        elif field.type in ("SelectField", "MultiCheckboxField"):
            labels = {c.value: str(c.label) for c in field.choices}
            values = field.data if isinstance(field.data, list) else [field.data]
            shown = ", ".join(labels.get(v, v) for v in values if v)
        else:
            shown = str(field.data)
        if shown:
            rows.append((field.label.text, shown))
    return rows
