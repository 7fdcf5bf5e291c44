"""What the feature packages' views share: showing a service's error on its form, the check
that a resident's phone is verified, a fresh cookie session, and rate limits on POSTs."""

from __future__ import annotations

from functools import wraps

from flask import redirect, session, url_for
from flask_login import current_user, login_required

from .errors import ServiceError
from .extensions import limiter

# Limits on the POSTs that send a code by text, and that check one.
CODE_SEND_LIMIT = "5 per 15 minutes"
CODE_CHECK_LIMIT = "20 per 15 minutes"


def post_only(limit: str):
    """Rate-limit a view's POSTs (a page's GET stays free to read)."""
    return limiter.limit(limit, methods=["POST"])


def attach_error(form, error: ServiceError) -> None:
    """Show a service error next to its field, or in the form's summary when it has none."""
    field = getattr(form, error.field, None) if error.field else None
    if field is not None:
        field.errors = [*field.errors, error.message]
    else:
        form.form_errors.append(error.message)


def fresh_session() -> None:
    """Empty the cookie session (against fixation), keeping only the language choice."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def verified_required(view):
    """Signed in and with a verified phone; otherwise on to the verification page."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.phone_verified:
            return redirect(url_for("accounts.verify"))
        return view(*args, **kwargs)

    return wrapped
