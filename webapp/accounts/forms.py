"""Account forms. Validators check shape only; rules that need the database live in services."""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, InputRequired, Length, Optional, Regexp, ValidationError

from ..i18n import LANGUAGES
from ..phones import InvalidPhoneNumber, to_e164
from .passwords import MAX_LENGTH, MIN_LENGTH, is_common


class PhoneField(StringField):
    """A phone number as typed; ``e164`` holds the parsed number once validated."""

    e164: str | None = None

    def pre_validate(self, form):
        self.e164 = None
        raw = (self.data or "").strip()
        if not raw:
            return  # InputRequired (or Optional) decides
        try:
            self.e164 = to_e164(raw, current_app.config["SMS_DEFAULT_REGION"])
        except InvalidPhoneNumber:
            raise ValidationError(
                _l("Enter a phone number, like 312 555 0142 or +48 601 234 567.")
            ) from None


def new_password_validators():
    return [
        InputRequired(message=_l("Enter a password.")),
        Length(
            min=MIN_LENGTH,
            max=MAX_LENGTH,
            # WTForms fills in %(min)d and %(max)d.
            message=_l("Your password must be %(min)d to %(max)d characters long."),
        ),
        _not_common,
    ]


def _not_common(form, field):
    if field.data and is_common(field.data):
        raise ValidationError(
            _l("This password is too common and easy to guess. Choose a longer phrase.")
        )


def phone_field(label=None):
    return PhoneField(
        label or _l("Mobile phone number"),
        validators=[InputRequired(message=_l("Enter your mobile phone number."))],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )


def language_field():
    # Each option names its language in that language, marked up so screen readers say it right.
    choices = [
        SelectChoice(lang.code, lang.name, render_kw={"lang": lang.tag}) for lang in LANGUAGES
    ]
    return SelectField(_l("Language for the site and text messages"), choices=choices)


def email_field():
    return EmailField(
        _l("Email address (optional)"),
        validators=[
            Optional(),
            Length(max=254, message=_l("Your email address must be 254 characters or fewer.")),
            Email(
                message=_l("Enter an email address like name@example.com."),
                check_deliverability=False,
            ),
        ],
        render_kw={"autocomplete": "email"},
    )


CODE_VALIDATORS = [
    InputRequired(message=_l("Enter the 6-digit code from the text message.")),
    Regexp(r"^\s*\d{6}\s*$", message=_l("The code is 6 digits, like 123456.")),
]


def code_field():
    return StringField(
        _l("6-digit code"),
        validators=CODE_VALIDATORS,
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 6},
    )


class SignUpForm(FlaskForm):
    phone = phone_field()
    password = PasswordField(
        _l("Create a password"),
        validators=new_password_validators(),
        render_kw={"autocomplete": "new-password"},
    )
    locale = language_field()
    email = email_field()
    consent = BooleanField(
        _l("I agree to the terms of use and the privacy notice."),
        validators=[InputRequired(message=_l("You must agree to the terms and privacy notice."))],
    )


class SignInForm(FlaskForm):
    phone = phone_field()
    password = PasswordField(
        _l("Password"),
        validators=[
            InputRequired(message=_l("Enter your password.")),
            Length(max=MAX_LENGTH, message=_l("The phone number or password is not right.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class CodeForm(FlaskForm):
    code = code_field()


class AppCodeForm(FlaskForm):
    """A code from the authenticator app (setting it up, or making new recovery codes)."""

    code = StringField(
        _l("6-digit code from your authenticator app"),
        validators=[
            InputRequired(message=_l("Enter the 6-digit code from your authenticator app.")),
            Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("The code is 6 digits, like 123456.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "maxlength": 7},
    )


class SecondFactorForm(FlaskForm):
    """After the password: a code from the app, or one of the recovery codes."""

    code = StringField(
        _l("Security code"),
        validators=[
            InputRequired(
                message=_l("Enter the code from your authenticator app, or a recovery code.")
            ),
            Length(
                max=32,
                message=_l(
                    "The code is not right. Enter the 6-digit code your authenticator app shows "
                    "now, or one of your recovery codes."
                ),
            ),
        ],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "characters",
            "spellcheck": "false",
        },
    )


class ResetRequestForm(FlaskForm):
    phone = phone_field()


class ResetPasswordForm(FlaskForm):
    code = code_field()
    password = PasswordField(
        _l("New password"),
        validators=new_password_validators(),
        render_kw={"autocomplete": "new-password"},
    )


class ChangePhoneForm(FlaskForm):
    phone = phone_field(_l("New mobile phone number"))
    password = PasswordField(
        _l("Your current password"),
        validators=[InputRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )


class SettingsForm(FlaskForm):
    locale = language_field()
    email = email_field()


class EmptyForm(FlaskForm):
    """For buttons that POST (sign out, resend): CSRF only."""
