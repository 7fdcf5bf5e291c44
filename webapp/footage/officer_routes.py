"""The officer's side: the request form (reached by POST from the camera search results), the
list of their own requests, and each request's answers. An officer sees only their own
requests: another officer's answers 404."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..errors import ServiceError
from ..models import RecipientState, Role
from ..security import role_required
from ..views import attach_error
from . import bp, services, tracking
from .forms import DESCRIPTION_HINT, RequestForm

STATE_LABELS = {
    RecipientState.SENT: _l("Text sent"),
    RecipientState.DELIVERED: _l("Text delivered"),
    RecipientState.FAILED: _l("Text not delivered"),
    RecipientState.AGREED: _l("Agreed"),
    RecipientState.DECLINED: _l("Declined"),
    RecipientState.NO_ANSWER: _l("No answer"),
}
REFRESH_SECONDS = 30


@bp.app_template_global()
def footage_state(state: str) -> str:
    return str(STATE_LABELS.get(state, state))


@bp.route("/staff/police/requests/new", methods=["POST"])
@role_required(Role.OFFICER)
def new_request():
    """First POST (from the search results: case number, location, chosen registrations):
    the form. Second POST (the form, with the window and description): the request."""
    form = RequestForm()
    latitude, longitude = form.latitude.data, form.longitude.data
    chosen = None
    if services.valid_location(latitude, longitude):
        chosen = tracking.chosen_registrations(form.registration.data, latitude, longitude)
    else:  # not from the search page: nothing to ask about
        form.form_errors.append(services.LocationInvalid.message)
    if "description" not in request.form:
        form.start_today()
    elif chosen is not None and form.validate_on_submit():
        start, end = form.window()
        try:
            created = services.create_request(
                current_user, form.case_number.data, latitude, longitude,
                form.registration.data, start, end, form.description.data,
            )  # fmt: skip
        except ServiceError as error:
            attach_error(form, error)
        else:
            flash(_("The request is sent. Answers appear here as they arrive."), "success")
            return redirect(url_for("footage.show_request", request_id=created.id))
    return render_template(
        "footage/new.html", form=form, chosen=chosen or [], description_hint=DESCRIPTION_HINT,
        selected=set(form.registration.data), timezone_name=current_app.config["TIMEZONE"],
    )  # fmt: skip


@bp.route("/staff/police/requests/")
@role_required(Role.OFFICER)
def list_requests():
    requests = [(r, tracking.states(r)) for r in tracking.own_requests(current_user)]
    return render_template("footage/requests.html", requests=requests, is_open=services.is_open)


@bp.route("/staff/police/requests/<int:request_id>")
@role_required(Role.OFFICER)
def show_request(request_id: int):
    try:
        view = tracking.request_view(current_user, request_id)
    except services.NotFound:
        abort(404)
    return render_template("footage/request.html", view=view, refresh=REFRESH_SECONDS)
