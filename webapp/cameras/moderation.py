"""The moderators' console: the queue, and one registration to verify and decide on.

Moderators see registrations only, never a safety profile; every registration they open and
every decision is audited.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import ServiceError
from ..models import RegistrationStatus, Role
from ..security import role_required
from ..views import attach_error
from . import services
from .forms import ModerationForm
from .queue import WAITED_DAYS, moderation_queue

bp = Blueprint("moderation", __name__, url_prefix="/staff/moderation",
               template_folder="templates")  # fmt: skip


def _int_arg(name: str) -> int | None:
    try:
        return int(request.args.get(name, ""))
    except ValueError:
        return None


@bp.route("/")
@role_required(Role.MODERATOR)
def queue():
    status = request.args.get("status", RegistrationStatus.PENDING)
    if status not in RegistrationStatus.ALL:
        status = RegistrationStatus.PENDING
    kind = request.args.get("kind") if request.args.get("kind") in ("home", "business") else None
    waited = _int_arg("waited") if _int_arg("waited") in WAITED_DAYS else None
    page = moderation_queue(status=status, kind=kind, waited_days=waited,
                            page=_int_arg("page") or 1)  # fmt: skip
    filters = {"status": status, "kind": kind or "", "waited": waited or ""}
    return render_template("cameras/moderation_queue.html", page=page, filters=filters,
                           statuses=RegistrationStatus.ALL, waited_days=WAITED_DAYS)  # fmt: skip


@bp.route("/<int:registration_id>", methods=["GET", "POST"])
@role_required(Role.MODERATOR)
def review(registration_id: int):
    form = ModerationForm()
    if form.validate_on_submit():
        try:
            services.moderate(
                current_user,
                registration_id,
                form.action.data,
                reason=form.reason.data,
                latitude=_float(form.latitude.data),
                longitude=_float(form.longitude.data),
            )
        except services.NotFound:
            abort(404)
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(_("Done. The registrant gets a text."), "success")
            return redirect(url_for("moderation.queue"))
    try:
        registration = services.open_for_moderation(current_user, registration_id)
    except services.NotFound:
        abort(404)
    if not form.is_submitted():
        form.latitude.data = registration.latitude
        form.longitude.data = registration.longitude
    return render_template("cameras/moderation_review.html", registration=registration,
                           form=form)  # fmt: skip


def _float(value) -> float | None:
    return None if value is None else float(value)
