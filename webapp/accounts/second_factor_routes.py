"""The staff second factor's pages: set up an authenticator app, enter a code after the
password, make new recovery codes. Staff only; residents have no second factor."""

from __future__ import annotations

from functools import wraps

import segno
from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from ..security import safe_next, second_factor_required, second_factor_url
from ..views import CODE_CHECK_LIMIT, attach_error, post_only
from . import bp, second_factor
from .errors import AccountError
from .forms import AppCodeForm, SecondFactorForm


def staff_only(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not current_user.is_staff:
            abort(403)
        return view(*args, **kwargs)

    return wrapped


def _next() -> str:
    """Where to go once the second factor is done: back where the person was headed."""
    return safe_next(request.args.get("next")) or url_for("staff.index")


def _grouped(secret: str) -> str:
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


@bp.route("/second-factor/setup", methods=["GET", "POST"])
@staff_only
@post_only(CODE_CHECK_LIMIT)
def second_factor_setup():
    if second_factor.is_enrolled(current_user):
        return redirect(second_factor_url(current_user, request.args.get("next")))
    form = AppCodeForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.confirm_enrolment(
                current_user, form.code.data, session.get("sid")
            )
        except AccountError as error:
            attach_error(form, error)
        else:
            return render_template(
                "accounts/recovery_codes.html", codes=codes, continue_url=_next(), enrolled=True
            )
    secret, uri = second_factor.start_enrolment(current_user)
    qr = segno.make(uri, error="m").svg_inline(
        scale=4, omitsize=True, light="#fff", title=_("QR code for your authenticator app")
    )
    return render_template(
        "accounts/second_factor_setup.html", form=form, qr=qr, secret=_grouped(secret)
    )


@bp.route("/second-factor", methods=["GET", "POST"], endpoint="second_factor")
@staff_only
@post_only(CODE_CHECK_LIMIT)
def enter_code():
    if not second_factor.is_enrolled(current_user):
        return redirect(second_factor_url(current_user, request.args.get("next")))
    if second_factor.session_passed(current_user, session.get("sid")):
        return redirect(_next())
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            used = second_factor.verify(current_user, session.get("sid"), form.code.data)
        except AccountError as error:
            attach_error(form, error)
        else:
            if used == second_factor.RECOVERY:
                left = second_factor.recovery_codes_left(current_user)
                flash(
                    ngettext(
                        "You signed in with a recovery code. %(num)d code is left: make new "
                        "ones from your account page.",
                        "You signed in with a recovery code. %(num)d codes are left: make new "
                        "ones from your account page.",
                        left,
                    ),
                    "info",
                )
            return redirect(_next())
    return render_template("accounts/second_factor.html", form=form)


@bp.route("/second-factor/recovery-codes", methods=["GET", "POST"])
@staff_only
@second_factor_required
@post_only(CODE_CHECK_LIMIT)
def recovery_codes():
    form = AppCodeForm()
    if form.validate_on_submit():
        try:
            codes = second_factor.regenerate_recovery_codes(current_user, form.code.data)
        except AccountError as error:
            attach_error(form, error)
        else:
            return render_template(
                "accounts/recovery_codes.html",
                codes=codes,
                continue_url=url_for("accounts.dashboard"),
                enrolled=False,
            )
    return render_template(
        "accounts/new_recovery_codes.html",
        form=form,
        left=second_factor.recovery_codes_left(current_user),
    )
