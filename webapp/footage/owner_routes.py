"""The owner's side: their open requests, and YES/NO buttons (the same service as the texts
YES code / NO code). Another owner's request answers 404."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..accounts.forms import EmptyForm
from ..errors import ServiceError
from ..extensions import db
from ..views import verified_required
from . import bp, services, tracking


@bp.route("/footage/")
@verified_required
def owner_requests():
    return render_template(
        "footage/owner.html", requests=tracking.open_requests_for(current_user), action=EmptyForm()
    )


@bp.route("/footage/<int:recipient_id>/<any(yes, no):choice>", methods=["POST"])
@verified_required
def answer(recipient_id: int, choice: str):
    try:
        recipient = tracking.own_recipient(current_user, recipient_id)
    except services.NotFound:
        abort(404)
    if EmptyForm().validate_on_submit():
        try:
            services.answer(current_user, recipient.code, choice == "yes", "web",
                            request_id=recipient.request_id)  # fmt: skip
            db.session.commit()
        except ServiceError as error:
            flash(str(error.message), "error")
        else:
            if choice == "yes":
                flash(_("Thank you. The officer will contact you. You can still change your "
                        "answer here until the request closes."), "success")  # fmt: skip
            else:
                flash(_("You said no. The police will not contact you about this request."),
                      "success")  # fmt: skip
    return redirect(url_for("footage.owner_requests"))
