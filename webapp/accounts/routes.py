"""Account pages. Each view parses its form, calls one service, then renders or redirects."""

from __future__ import annotations

from contextlib import suppress

from flask import flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from ..i18n import current_language
from ..models import CodePurpose
from ..phones import masked
from ..security import safe_next, second_factor_url
from ..views import (
    CODE_CHECK_LIMIT,
    CODE_SEND_LIMIT,
    attach_error,
    fresh_session,
    post_only,
    verified_required,
)
from . import bp, services
from .codes import code_text_failed
from .errors import AccountError, ResendTooSoon, SmsNotSent, TooManyCodes
from .forms import (
    ChangePhoneForm,
    CodeForm,
    EmptyForm,
    ResetPasswordForm,
    ResetRequestForm,
    SettingsForm,
    SignInForm,
    SignUpForm,
)

SIGN_IN_LIMIT = "10 per minute;50 per hour"
SIGN_UP_LIMIT = "10 per hour"


def _sign_in(user) -> None:
    fresh_session()
    session["sid"] = services.start_session(user)
    login_user(user)


@bp.route("/sign-up", methods=["GET", "POST"])
@post_only(SIGN_UP_LIMIT)
def sign_up():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    form = SignUpForm()
    if request.method == "GET":
        form.locale.data = current_language().code
    if form.validate_on_submit():
        try:
            user = services.register(
                phone=form.phone.e164,
                password=form.password.data,
                locale=form.locale.data,
                email=form.email.data,
                consent=form.consent.data,
            )
        except AccountError as error:
            attach_error(form, error)
        else:
            _sign_in(user)
            flash(_("Your account is created. We sent a code to your phone."), "success")
            return redirect(url_for("accounts.verify"))
    return render_template("accounts/sign_up.html", form=form)


@bp.route("/verify", methods=["GET", "POST"])
@login_required
@post_only(CODE_CHECK_LIMIT)
def verify():
    if current_user.phone_verified:
        return redirect(url_for("accounts.dashboard"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.verify_phone(current_user, form.code.data)
        except AccountError as error:
            attach_error(form, error)
        else:
            flash(_("Your phone number is verified."), "success")
            return redirect(url_for("accounts.dashboard"))
    failed = code_text_failed(current_user, CodePurpose.VERIFY_PHONE, current_user.phone)
    return render_template(
        "accounts/verify.html",
        form=form,
        resend=EmptyForm(),
        phone=masked(current_user.phone),
        delivery_failed=failed,
    )


@bp.route("/verify/resend", methods=["POST"])
@login_required
@post_only(CODE_SEND_LIMIT)
def resend():
    form = EmptyForm()
    if form.validate_on_submit():
        try:
            services.resend_verification(current_user)
        except AccountError as error:
            flash(str(error.message), "error")
        else:
            flash(_("We sent a new code."), "success")
    return redirect(url_for("accounts.verify"))


@bp.route("/sign-in", methods=["GET", "POST"])
@post_only(SIGN_IN_LIMIT)
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("accounts.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.phone.e164, form.password.data)
        except AccountError as error:
            attach_error(form, error)
        else:
            _sign_in(user)
            if not user.phone_verified:
                return redirect(url_for("accounts.verify"))
            target = safe_next(request.args.get("next"))
            if user.is_staff:
                return redirect(second_factor_url(user, target))
            return redirect(target or url_for("accounts.dashboard"))
    return render_template("accounts/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
def sign_out():
    form = EmptyForm()
    if form.validate_on_submit():
        services.end_session(session.get("sid"))
        logout_user()
        fresh_session()
        flash(_("You are signed out."), "success")
    return redirect(url_for("main.index"))


@bp.route("/")
@verified_required
def dashboard():
    return render_template("accounts/dashboard.html", sign_out_form=EmptyForm())


@bp.route("/settings", methods=["GET", "POST"])
@verified_required
def settings():
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        services.update_settings(current_user, locale=form.locale.data, email=form.email.data)
        session.pop("lang", None)  # the saved choice now speaks for this person
        flash(_("Your settings are saved."), "success")
        return redirect(url_for("accounts.settings"))
    return render_template("accounts/settings.html", form=form)


@bp.route("/phone", methods=["GET", "POST"])
@verified_required
@post_only(CODE_SEND_LIMIT)
def change_phone():
    form = ChangePhoneForm()
    if form.validate_on_submit():
        try:
            services.start_phone_change(current_user, form.phone.e164, form.password.data)
        except AccountError as error:
            attach_error(form, error)
        else:
            return redirect(url_for("accounts.confirm_phone"))
    return render_template("accounts/change_phone.html", form=form)


@bp.route("/phone/confirm", methods=["GET", "POST"])
@verified_required
@post_only(CODE_CHECK_LIMIT)
def confirm_phone():
    pending = services.pending_phone_change(current_user)
    if pending is None:
        flash(_("Your code has expired. Enter the new number again."), "error")
        return redirect(url_for("accounts.change_phone"))
    form = CodeForm()
    if form.validate_on_submit():
        try:
            services.confirm_phone_change(current_user, form.code.data)
        except AccountError as error:
            attach_error(form, error)
        else:
            flash(_("Your phone number is changed."), "success")
            return redirect(url_for("accounts.dashboard"))
    return render_template("accounts/confirm_phone.html", form=form, phone=masked(pending))


@bp.route("/reset", methods=["GET", "POST"])
@post_only(CODE_SEND_LIMIT)
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        # Saying a code could not be sent would tell a stranger the number has an account.
        with suppress(ResendTooSoon, TooManyCodes, SmsNotSent):
            services.request_password_reset(form.phone.e164)
        session["reset_phone"] = form.phone.e164
        return redirect(url_for("accounts.reset_password"))
    return render_template("accounts/reset_request.html", form=form)


@bp.route("/reset/code", methods=["GET", "POST"])
@post_only(CODE_CHECK_LIMIT)
def reset_password():
    phone = session.get("reset_phone")
    if not phone:
        return redirect(url_for("accounts.reset_request"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(phone, form.code.data, form.password.data)
        except AccountError as error:
            attach_error(form, error)
        else:
            session.pop("reset_phone", None)
            flash(_("Your password is changed. Sign in with your new password."), "success")
            return redirect(url_for("accounts.sign_in"))
    return render_template("accounts/reset_password.html", form=form, phone=masked(phone))
