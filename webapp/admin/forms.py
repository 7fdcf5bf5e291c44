"""Admin forms. Validators check shape only; rules that need the database live in services."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from ..accounts.forms import language_field, new_password_validators, phone_field
from ..models import Role
from .audit_log import AuditFilters

ROLE_LABELS = {
    Role.RESIDENT: _l("Resident"),
    Role.MODERATOR: _l("Moderator"),
    Role.OFFICER: _l("Police officer"),
    Role.DISPATCHER: _l("Dispatcher"),
    Role.ADMIN: _l("Administrator"),
}


def role_choices(*, staff_only: bool):
    return [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()
            if role.is_staff or not staff_only]  # fmt: skip


class StaffAccountForm(FlaskForm):
    phone = phone_field(_l("Mobile phone number"))
    role = SelectField(_l("Role"), choices=role_choices(staff_only=True))
    password = PasswordField(
        _l("Temporary password"),
        validators=new_password_validators(),
        render_kw={"autocomplete": "new-password"},
    )
    locale = language_field()


class RoleForm(FlaskForm):
    role = SelectField(_l("New role"), choices=role_choices(staff_only=False))


class TokenForm(FlaskForm):
    agency = StringField(
        _l("Agency"),
        validators=[
            InputRequired(message=_l("Enter the agency.")),
            Length(max=80, message=_l("Use %(max)d characters or fewer.")),
        ],
    )
    name = StringField(
        _l("System name"),
        validators=[
            InputRequired(message=_l("Enter a name for the system that will use the token.")),
            Length(max=80, message=_l("Use %(max)d characters or fewer.")),
        ],
    )


def _positive(form, field):
    # Text that is not a number already has its error (and no data): say one thing only.
    if field.data is not None and field.data < 1:
        raise ValidationError(_l("Enter a whole number above 0."))


def _optional_id(label):
    return IntegerField(label, validators=[Optional(), _positive], render_kw={"min": 1})


class AuditFilterForm(FlaskForm):
    """The audit log's filters, read from the query string (a GET form: no CSRF)."""

    class Meta:
        csrf = False

    action = StringField(_l("Action starts with"), validators=[Optional(), Length(max=64)])
    actor_id = _optional_id(_l("Actor id"))
    subject_type = StringField(_l("Subject type"), validators=[Optional(), Length(max=32)])
    subject_id = _optional_id(_l("Subject id"))
    outcome = StringField(_l("Outcome"), validators=[Optional(), Length(max=16)])
    since = DateField(_l("From (date, UTC)"), validators=[Optional()])
    until = DateField(_l("To (date, UTC)"), validators=[Optional()])

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("The end date must be on or after the start date."))

    def filters(self) -> AuditFilters:
        """The filters that are valid; a field in error is left out (and shows its error)."""

        def value(field):
            if field.errors or field.data in (None, ""):
                return None
            return field.data.strip() if isinstance(field.data, str) else field.data

        return AuditFilters(
            action=value(self.action),
            actor_id=value(self.actor_id),
            subject_type=value(self.subject_type),
            subject_id=value(self.subject_id),
            outcome=value(self.outcome),
            since=value(self.since),
            until=value(self.until),
        )
