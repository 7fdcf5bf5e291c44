"""The resident's data: who has seen the profile, download it all, delete the account."""

from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from ..errors import ServiceError
from ..views import attach_error, fresh_session, verified_required
from . import data_bp as bp
from . import rights
from .forms import DeleteAccountForm


@bp.route("/")
@verified_required
def index():
    return render_template("profiles/my_data.html", views=rights.access_history(current_user))


@bp.route("/export.json")
@verified_required
def export():
    body = json.dumps(rights.export_data(current_user), ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={"Content-Disposition": 'attachment; filename="safety-registry-my-data.json"'},
    )


@bp.route("/delete", methods=["GET", "POST"])
@verified_required
def delete():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        try:
            rights.delete_account(current_user, form.password.data)
        except ServiceError as error:
            attach_error(form, error)
        else:
            logout_user()
            fresh_session()
            session.pop("sid", None)
            flash(_("Your account and everything in it are deleted."), "success")
            return redirect(url_for("main.index"))
    return render_template("profiles/delete.html", form=form)
