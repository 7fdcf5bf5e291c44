"""The dispatcher's look-up pages: the form (POST makes a look-up, then redirects to it) and
the profile panel of one look-up, which only its dispatcher may open, until it expires.

The number is never put in a URL (URLs end up in logs): the panel's address holds only the
look-up's id, and "look up again" posts the number back in a form.
"""

from __future__ import annotations

from babel import Locale, UnknownLocaleError
from flask import abort, redirect, render_template, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..extensions import limiter
from ..models import Role
from ..profiles.forms import BUILDING_TYPES, COMMUNICATION_NEEDS, RELATIONSHIPS
from ..security import role_required
from ..views import attach_error
from . import bp
from . import lookup as services
from .forms import LookupForm

# A dispatcher looks up one caller at a time; this stops a script run from a stolen session.
LOOKUP_LIMIT = "30 per minute;300 per hour"


_LABELS = {
    "building": dict(BUILDING_TYPES),
    "communication": dict(COMMUNICATION_NEEDS),
    # "Me (the account holder)" is the resident's own words; responders read "Account holder".
    "relationship": {**dict(RELATIONSHIPS), "self": _l("Account holder")},
}


def _per_dispatcher() -> str:
    return f"dispatcher:{current_user.id}"


# Filters for dispatch/_profile_panel.html, which the console's text sessions include too.
@bp.app_template_filter("profile_label")
def profile_label(value: str, kind: str) -> str:
    """The translated label of a profile choice (``relationship``, ``building``, ...)."""
    return _LABELS[kind].get(value, value)


@bp.app_template_filter("language_name")
def language_name(tag: str) -> str:
    """A language's name in the reader's language ("es" -> "Spanish" for an English page)."""
    try:
        name = Locale.parse(tag.replace("-", "_")).get_display_name(get_locale())
    except (ValueError, UnknownLocaleError):
        return tag
    return name or tag


@bp.route("/lookup", methods=["GET", "POST"])
@role_required(Role.DISPATCHER)
@limiter.limit(LOOKUP_LIMIT, methods=["POST"], key_func=_per_dispatcher)
def lookup():
    form = LookupForm()
    if form.validate_on_submit():
        try:
            row = services.lookup(form.phone.data, form.incident.data,
                                  dispatcher=current_user, channel="web")  # fmt: skip
        except services.LookupProblem as error:
            attach_error(form, error)
        else:
            return redirect(url_for("dispatch.lookup_panel", lookup_id=row.id))
    return render_template(
        "dispatch/lookup.html",
        form=form,
        open_lookups=services.open_lookups(current_user),
        window_minutes=services.WINDOW_MINUTES,
    )


@bp.route("/lookup/<int:lookup_id>")
@role_required(Role.DISPATCHER)
def lookup_panel(lookup_id: int):
    try:
        row = services.own_lookup(lookup_id, current_user)
        profile = services.view(lookup_id, current_user)
    except services.LookupNotFound:
        abort(404)
    except services.LookupExpired as expired:
        again = LookupForm(formdata=None, data={"phone": row.phone, "incident": row.incident})
        return render_template(
            "dispatch/lookup_expired.html", lookup=row, message=expired.message, form=again
        ), 410
    except services.NoProfile:
        profile = None
    return render_template("dispatch/lookup_panel.html", lookup=row, profile=profile)
