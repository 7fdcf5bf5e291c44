"""Officers' camera search around an incident: the page (with its map) and a CSV export.

Both are GET: a search is a read, so its results can be bookmarked, reloaded and shared with
a colleague, and the CSV link carries the same query. The audit row each one writes is the
log of that read (as a moderator's opening of a registration is), not a change the officer
makes to any data, so "never change state on GET" holds. Reloading, or switching language,
runs the search again and is audited again: each one shows the results anew.
"""

from __future__ import annotations

from flask import Response, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from ..models import Role
from ..security import role_required
from ..views import attach_error
from . import bp, services
from .export import filename, to_csv
from .forms import SearchForm
from .map import format_distance, layout, rounded_distance_m

FOOTAGE_REQUEST_ENDPOINT = "footage.new_request"
FOOTAGE_REQUEST_PATH = "/staff/police/requests/new"


@bp.route("/")
@role_required(Role.OFFICER)
def search():
    form = SearchForm(request.args)
    result = None
    if SearchForm.submitted(request.args) and form.validate():
        try:
            result = services.search(current_user, form.query())
        except services.SearchError as error:
            attach_error(form, error)
    return render_template(
        "police/search.html",
        form=form,
        result=result,
        map=layout(result) if result else None,
        max_radius=format_distance(services.max_radius_m()),
        result_limit=services.RESULT_LIMIT,
        request_url=_footage_request_url(),
        format_distance=format_distance,
        rounded_distance_m=rounded_distance_m,
    )


@bp.route("/search.csv")
@role_required(Role.OFFICER)
def export():
    form = SearchForm(request.args)
    if not form.validate():
        return redirect(url_for("police.search", **request.args))
    try:
        result = services.search(current_user, form.query(), action=services.EXPORT)
    except services.SearchError:
        return redirect(url_for("police.search", **request.args))  # the page says what is wrong
    disposition = f'attachment; filename="{filename(form.case_number.data)}"'
    return Response(to_csv(result), mimetype="text/csv",
                    headers={"Content-Disposition": disposition})  # fmt: skip


def _footage_request_url() -> str:
    """Where the chosen owners are posted: footage requests are another blueprint, which may
    not be registered yet."""
    if FOOTAGE_REQUEST_ENDPOINT in current_app.view_functions:
        return url_for(FOOTAGE_REQUEST_ENDPOINT)
    return request.script_root + FOOTAGE_REQUEST_PATH
