"""Camera-registration forms. The field groups are shared: a home registration is the place,
one camera system, how to be asked and the terms; a business adds its own details."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DecimalField, IntegerField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    Email,
    InputRequired,
    NumberRange,
    Optional,
    StopValidation,
)

from ..accounts.forms import PhoneField
from ..profiles.forms import (
    US_STATES,
    MultiCheckboxField,
    ProfileForm,
    choices,
    text,
    textarea,
)

VIEWS = [
    ("front_door", _l("Front door or entrance")),
    ("street", _l("Street or sidewalk")),
    ("alley", _l("Alley")),
    ("yard", _l("Yard")),
    ("garage", _l("Garage or driveway")),
    ("parking", _l("Parking lot")),
    ("interior", _l("Inside the building")),
]
RECORDING = [("continuous", _l("All the time")), ("motion", _l("Only when there is motion"))]
PLACEMENTS = [
    ("exterior", _l("Outside")),
    ("interior", _l("Inside")),
    ("both", _l("Inside and outside")),
]
CONTACT_METHODS = [("sms", _l("Text message")), ("call", _l("Phone call")), ("email", _l("Email"))]
BUSINESS_TYPES = [
    ("retail", _l("Shop or retail")),
    ("restaurant", _l("Restaurant, bar or café")),
    ("office", _l("Office")),
    ("gas_station", _l("Gas station")),
    ("health", _l("Clinic or pharmacy")),
    ("worship", _l("Place of worship")),
    ("school", _l("School or child care")),
    ("residential", _l("Apartment building or condo association")),
    ("industrial", _l("Factory or warehouse")),
    ("other", _l("Other")),
]
LABELS = {
    "views": dict(VIEWS),
    "recording": dict(RECORDING),
    "placement": dict(PLACEMENTS),
    "contact_methods": dict(CONTACT_METHODS),
    "business_type": dict(BUSINESS_TYPES),
}


def _zip_code():
    from ..profiles.forms import HomeForm

    return HomeForm.zip_code  # the same field and messages as the profile's address


def email_if_chosen(form, field):
    if "email" in (form.contact_methods.data or []) and not (field.data or "").strip():
        # Stop here: the Optional() that follows would otherwise clear this error.
        raise StopValidation(_l("Enter an email address, or do not choose email."))


class PlaceFields:
    street = text(_l("Street address"), 120, _l("Enter the street address."),
                  render_kw={"autocomplete": "address-line1"})  # fmt: skip
    unit = text(_l("Apartment, unit or suite (optional)"), 40,
                render_kw={"autocomplete": "address-line2"})  # fmt: skip
    city = text(_l("City"), 80, _l("Enter the city."),
                render_kw={"autocomplete": "address-level2"})  # fmt: skip
    state = SelectField(_l("State"), choices=[SelectChoice(s, s) for s in US_STATES])
    zip_code = _zip_code()


class SystemFields:
    camera_count = IntegerField(
        _l("How many cameras?"),
        validators=[
            InputRequired(message=_l("Enter how many cameras, like 2.")),
            NumberRange(min=1, max=500, message=_l("Enter a number from 1 to 500.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    views = MultiCheckboxField(
        _l("What do they see?"),
        choices=choices(VIEWS, blank=False),
        validators=[InputRequired(message=_l("Choose at least one thing the cameras see."))],
    )
    recording = SelectField(
        _l("When do they record?"),
        choices=choices(RECORDING, blank=False),
    )
    retention_days = IntegerField(
        _l("How many days is footage kept?"),
        validators=[
            InputRequired(message=_l("Enter how many days footage is kept, like 14.")),
            NumberRange(min=1, max=3650, message=_l("Enter a number of days from 1 to 3650.")),
        ],
        render_kw={"inputmode": "numeric"},
    )
    can_export = BooleanField(_l("I can copy footage to a USB stick or send it as a file"))


class PlacementField:
    placement = SelectField(
        _l("Where are these cameras?"), choices=choices(PLACEMENTS, blank=False)
    )


class ContactFields:
    contact_methods = MultiCheckboxField(
        _l("How may the police ask you?"),
        choices=choices(CONTACT_METHODS, blank=False),
        validators=[InputRequired(message=_l("Choose at least one way to ask you."))],
        default=["sms"],
    )
    email = StringField(
        _l("Email address (if you chose email)"),
        validators=[email_if_chosen, Optional(),
                    Email(message=_l("Enter an email address like name@example.com."))],
        render_kw={"autocomplete": "email", "spellcheck": "false"},
    )  # fmt: skip


class BusinessFields:
    business_name = text(_l("Business name"), 120, _l("Enter the business name."),
                         render_kw={"autocomplete": "organization"})  # fmt: skip
    business_type = SelectField(_l("Type of business"), choices=choices(BUSINESS_TYPES))
    hours = textarea(_l("Opening hours (for example Mon-Fri 9-17)"), 200)
    contact_name = text(_l("Contact person"), 80, _l("Enter the name of a contact person."))
    contact_phone = PhoneField(
        _l("Contact phone"),
        validators=[InputRequired(message=_l("Enter a contact phone number."))],
        render_kw={"autocomplete": "tel", "inputmode": "tel"},
    )
    placard_wanted = BooleanField(_l("We would like a window placard"))


class ConsentFields:
    willing = BooleanField(
        _l("Yes, the police may ask me for footage when a crime happens nearby"), default=True
    )
    agree_terms = BooleanField(
        _l("I have read and agree to these terms"),
        validators=[InputRequired(message=_l("Agree to the terms to register."))],
    )


class CameraForm(ProfileForm):
    """Base: ``data_for_model`` like the profile forms, with the phone in E.164."""

    def data_for_model(self) -> dict:
        data = super().data_for_model()
        if "contact_phone" in data:
            data["contact_phone"] = self.contact_phone.e164
        data.pop("agree_terms", None)
        return data

    def split(self) -> tuple[dict, dict]:
        """(registration values, first system values)."""
        data = self.data_for_model()
        system = {name: data.pop(name) for name in
                  ("placement", "camera_count", "views", "recording", "retention_days",
                   "can_export") if name in data}  # fmt: skip
        return data, system


_PLACE = (_l("Where are the cameras?"), ["street", "unit", "city", "state", "zip_code"])
_SYSTEM = ["camera_count", "views", "recording", "retention_days", "can_export"]
_CONTACT = (_l("How to ask you for footage"), ["contact_methods", "email"])
_BUSINESS = (
    _l("The business"),
    ["business_name", "business_type", "hours", "contact_name", "contact_phone",
     "placard_wanted"],
)  # fmt: skip


class HomeRegistrationForm(CameraForm, PlaceFields, SystemFields, ContactFields, ConsentFields):
    groups = [_PLACE, (_l("The cameras"), _SYSTEM), _CONTACT]


class BusinessRegistrationForm(
    CameraForm, BusinessFields, PlaceFields, PlacementField, SystemFields, ContactFields,
    ConsentFields,
):  # fmt: skip
    groups = [_BUSINESS, _PLACE, (_l("The cameras"), ["placement", *_SYSTEM]), _CONTACT]


class HomeEditForm(CameraForm, PlaceFields, ContactFields):
    groups = [_PLACE, _CONTACT]


class BusinessEditForm(CameraForm, BusinessFields, PlaceFields, ContactFields):
    groups = [_BUSINESS, _PLACE, _CONTACT]


class HomeSystemForm(CameraForm, SystemFields):
    groups = [(_l("The cameras"), _SYSTEM)]


class BusinessSystemForm(CameraForm, PlacementField, SystemFields):
    groups = [(_l("The cameras"), ["placement", *_SYSTEM])]


def coordinate(label, low, high, message):
    return DecimalField(
        label,
        places=None,
        validators=[Optional(), NumberRange(min=low, max=high, message=message)],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class ModerationForm(ProfileForm):
    latitude = coordinate(_l("Latitude"), -90, 90, _l("Enter a latitude from -90 to 90."))
    longitude = coordinate(_l("Longitude"), -180, 180, _l("Enter a longitude from -180 to 180."))
    reason = textarea(_l("Reason (the registrant reads it)"), 500)
    action = SelectField(
        _l("Decision"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("request_changes", _l("Ask for changes")),
            SelectChoice("reject", _l("Reject")),
        ],
    )
