"""Profile forms. Each form's ``data_for_model()`` gives the values a service stores."""

from __future__ import annotations

from datetime import UTC, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..accounts.forms import PhoneField, code_field

_STATES = "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH OK OR PA PR RI SC SD TN TX UT VT VA VI WA WV WI WY GU AS MP"  # noqa: E501
US_STATES = _STATES.split()

BUILDING_TYPES = [
    ("house", _l("House")),
    ("apartment", _l("Apartment or condo")),
    ("mobile_home", _l("Mobile home")),
    ("senior_living", _l("Senior or assisted living")),
    ("other", _l("Other")),
]
RELATIONSHIPS = [
    ("self", _l("Me (the account holder)")),
    ("partner", _l("Spouse or partner")),
    ("child", _l("Child")),
    ("parent", _l("Parent")),
    ("grandparent", _l("Grandparent")),
    ("sibling", _l("Brother or sister")),
    ("relative", _l("Other relative")),
    ("roommate", _l("Roommate")),
    ("caregiver", _l("Caregiver")),
    ("neighbour", _l("Neighbour or friend")),
    ("other", _l("Other")),
]
COMMUNICATION_NEEDS = [
    ("deaf", _l("Deaf or hard of hearing")),
    ("blind", _l("Blind or low vision")),
    ("speech", _l("Speech difficulty")),
    ("nonverbal", _l("Non-verbal")),
    ("autism", _l("Autism")),
    ("cognitive", _l("Memory or cognitive difficulty (for example dementia)")),
]
BLOOD_TYPES = ["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"]

TOO_LONG = _l("This answer must be %(max)d characters or fewer.")


def choices(pairs, *, blank=True):
    options = [SelectChoice("", _l("Not given"))] if blank else []
    return options + [SelectChoice(value, label) for value, label in pairs]


def text(label, max_length=80, required=None, **kwargs):
    validators = [InputRequired(message=required)] if required else [Optional()]
    validators.append(Length(max=max_length, message=TOO_LONG))
    return StringField(label, validators=validators, **kwargs)


def textarea(label, max_length=500, **kwargs):
    return TextAreaField(
        label, validators=[Optional(), Length(max=max_length, message=TOO_LONG)],
        render_kw={"rows": 3}, **kwargs,
    )  # fmt: skip


def birth_year(form, field):
    if field.data is not None and not 1900 <= field.data <= datetime.now(UTC).year:
        raise ValidationError(_l("Enter a year between 1900 and this year, like 1957."))


class MultiCheckboxField(SelectMultipleField):
    """Checkboxes stored as one comma-separated value."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def process_data(self, value):
        if isinstance(value, str):
            value = value.split(",") if value else []
        super().process_data(value)


class ProfileForm(FlaskForm):
    """Base: ``groups`` orders fields under headings; ``data_for_model`` strips the rest."""

    groups: list[tuple[object, list[str]]] = []

    def data_for_model(self) -> dict:
        data = {}
        for field in self:
            if field.name == "csrf_token":
                continue
            value = field.data
            if isinstance(value, str):
                value = value.strip()
            if isinstance(field, MultiCheckboxField):
                value = ",".join(value or [])
            data[field.name] = value if value != "" else None
        return data


class HomeForm(ProfileForm):
    street = text(_l("Street address"), 120, _l("Enter your street address."),
                  render_kw={"autocomplete": "address-line1"})  # fmt: skip
    unit = text(_l("Apartment, unit or suite (optional)"), 40,
                render_kw={"autocomplete": "address-line2"})  # fmt: skip
    city = text(_l("City"), 80, _l("Enter your city."),
                render_kw={"autocomplete": "address-level2"})  # fmt: skip
    state = SelectField(_l("State"), choices=[SelectChoice(s, s) for s in US_STATES])
    zip_code = StringField(
        _l("ZIP code"),
        validators=[
            InputRequired(message=_l("Enter your ZIP code.")),
            Regexp(r"^\s*\d{5}(-\d{4})?\s*$", message=_l("Enter a ZIP code like 60602.")),
        ],
        render_kw={"autocomplete": "postal-code", "inputmode": "numeric"},
    )
    building_type = SelectField(_l("Type of building"), choices=choices(BUILDING_TYPES))
    floor = text(_l("Floor you live on"), 20)
    bedrooms = textarea(_l("Where are the bedrooms?"), 200)
    access_notes = textarea(_l("How to get in (gate or door codes, lock box, hidden key)"), 300)
    hazards = textarea(_l("Hazards responders should know (oxygen, dogs, hoarding, ...)"), 300)
    utility_shutoffs = textarea(_l("Where are the gas, water and power shut-offs?"), 300)
    notes = textarea(_l("Anything else 911 should know about your home"), 500)

    groups = [
        (_l("Address"), ["street", "unit", "city", "state", "zip_code"]),
        (_l("The building"), ["building_type", "floor", "bedrooms"]),
        (_l("For responders"), ["access_notes", "hazards", "utility_shutoffs", "notes"]),
    ]


class MemberForm(ProfileForm):
    name = text(_l("Name"), 80, _l("Enter a name."))
    relationship_ = SelectField(_l("Relationship to you"), choices=choices(RELATIONSHIPS))
    birth_year = IntegerField(
        _l("Year of birth"),
        validators=[Optional(), birth_year],
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    description = textarea(_l("Physical description (height, build, hair, glasses, ...)"), 300)
    language = text(_l("Main language"), 60)
    interpreter_needed = BooleanField(_l("Needs an interpreter"))
    communication = MultiCheckboxField(
        _l("Communication needs"), choices=choices(COMMUNICATION_NEEDS, blank=False)
    )
    medical_conditions = textarea(_l("Medical conditions"))
    medications = textarea(_l("Medications"))
    allergies = textarea(_l("Allergies"), 300)
    blood_type = SelectField(_l("Blood type"), choices=choices((b, b) for b in BLOOD_TYPES))
    mental_health = textarea(_l("Mental or behavioural health notes"))
    disabilities = textarea(_l("Disabilities and mobility (wheelchair, walker, bedridden, ...)"))
    equipment = textarea(
        _l("Equipment needed to leave the home, or that needs power (oxygen, ventilator, ...)")
    )
    advance_directive = textarea(
        _l("Advance directive (for example DNR, and where it is kept)"), 300
    )
    vaccinations = textarea(_l("Vaccinations"), 300)

    groups = [
        (_l("About this person"), ["name", "relationship_", "birth_year", "description"]),
        (_l("Language and communication"), ["language", "interpreter_needed", "communication"]),
        (
            _l("Health"),
            [
                "medical_conditions",
                "medications",
                "allergies",
                "blood_type",
                "mental_health",
                "disabilities",
                "equipment",
                "advance_directive",
                "vaccinations",
            ],
        ),
    ]


class PetForm(ProfileForm):
    name = text(_l("Name"), 60)
    kind = text(_l("Kind of animal (dog, cat, ...)"), 60, _l("Say what kind of animal it is."))
    service_animal = BooleanField(_l("This is a service animal"))
    notes = textarea(_l("Notes for responders (friendly, afraid of strangers, ...)"), 300)


class VehicleForm(ProfileForm):
    make = text(_l("Make"), 40, _l("Enter the make, like Toyota."))
    model = text(_l("Model"), 40)
    colour = text(_l("Colour"), 30)
    plate = StringField(
        _l("Licence plate"),
        validators=[
            Optional(),
            Regexp(
                r"^[A-Za-z0-9 -]{1,10}$",
                message=_l("A licence plate has up to 10 letters, digits, spaces or dashes."),
            ),
        ],
    )


class ContactForm(ProfileForm):
    name = text(_l("Name"), 80, _l("Enter a name."))
    relationship_ = SelectField(_l("Relationship to you"), choices=choices(RELATIONSHIPS[1:]))
    phone = PhoneField(
        _l("Phone number"),
        validators=[InputRequired(message=_l("Enter a phone number."))],
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )
    language = text(_l("Language they speak"), 60)

    def data_for_model(self) -> dict:
        data = super().data_for_model()
        data["phone"] = self.phone.e164
        return data


class AddPhoneForm(FlaskForm):
    phone = PhoneField(
        _l("Phone number"),
        validators=[InputRequired(message=_l("Enter a phone number."))],
        render_kw={"inputmode": "tel"},
    )


class PhoneCodeForm(FlaskForm):
    code = code_field()


class SharingForm(FlaskForm):
    share_with_911 = BooleanField(
        _l("Show my safety profile to 911 when I call or text from my registered phones")
    )
    emergency_planning = BooleanField(
        _l("Also share it with the city's emergency management for planning (for example, "
           "to check on people who depend on power during an outage)")
    )  # fmt: skip


class DeleteAccountForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[InputRequired(message=_l("Enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
