"""The officers' search form. It is read from the query string (a search is a read, see
routes.py), so it has no CSRF token; every field is kept as typed when it comes back with
errors. The numbers are text fields with our own parsing, so that every error is translated."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Optional, StopValidation, ValidationError

from ..footage.services import CASE_NUMBER, CaseNumberInvalid
from ..profiles.forms import TOO_LONG
from .services import MIN_RADIUS_M, SearchQuery, max_radius_m, radius_message

CASE_NUMBER_MAX = 40  # FootageRequest.case_number
REASON_MAX = 150  # with the case number and the place, it fits one audit row (255)
FIELDS = ("address", "latitude", "longitude", "radius", "case_number", "reason")


def parse_number(raw: str | None) -> float | None:
    """``raw`` as a finite number, or None. Accepts a typographic minus, and a decimal comma
    when there is no point (coordinates pasted from a European map)."""
    value = (raw or "").strip().replace("\u2212", "-")
    if "," in value and "." not in value:
        value = value.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", value):
        return None
    return float(value)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def text(label, max_length: int, required=None, **kwargs):
    """A text field, stripped; ``required`` is the message when it is left empty."""
    validators = [DataRequired(message=required)] if required else [Optional()]
    validators.append(Length(max=max_length, message=TOO_LONG))
    return StringField(label, validators=validators, filters=[_strip], **kwargs)


def coordinate(label, low: float, high: float, message):
    def in_range(form, field):
        number = parse_number(field.data)
        if number is None or not low <= number <= high:
            raise StopValidation(message)

    return StringField(
        label,
        validators=[Optional(), in_range],
        filters=[_strip],
        render_kw={"inputmode": "decimal", "autocomplete": "off", "spellcheck": "false"},
    )


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # read from the query string; a search changes no data (routes.py)

    address = text(_l("Address of the incident"), 200)
    latitude = coordinate(_l("Latitude"), -90, 90, _l("Enter a latitude from -90 to 90."))
    longitude = coordinate(_l("Longitude"), -180, 180, _l("Enter a longitude from -180 to 180."))
    radius = text(_l("Search radius in metres"), 12,
                  _l("Enter the search radius in metres, like 300."),
                  render_kw={"inputmode": "numeric", "autocomplete": "off"})  # fmt: skip
    # The footage request that may follow takes the same case numbers (they go into texts).
    case_number = text(_l("Case number"), CASE_NUMBER_MAX, _l("Enter the case number."),
                       render_kw={"autocomplete": "off", "spellcheck": "false"})  # fmt: skip
    reason = text(_l("Reason for this search"), REASON_MAX,
                  _l("Enter the reason for this search."),
                  render_kw={"autocomplete": "off"})  # fmt: skip

    @staticmethod
    def submitted(args) -> bool:
        """Whether the query string holds a search (the bare page only shows the form)."""
        return any(name in args for name in FIELDS)

    def validate_case_number(self, field) -> None:
        if not field.errors and not CASE_NUMBER.match(field.data):
            raise ValidationError(CaseNumberInvalid.message)

    def validate_radius(self, field) -> None:
        # Whole metres; "2,000" and "2 000" are read as 2000.
        if field.errors:
            return
        digits = re.sub(r"[\s,]", "", field.data or "")
        if not digits.isascii() or not digits.isdigit():
            raise ValidationError(_("Enter the radius as a whole number of metres, like 300."))
        if not MIN_RADIUS_M <= int(digits) <= max_radius_m():
            raise ValidationError(radius_message())

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        has_lat, has_lon = bool(self.latitude.data), bool(self.longitude.data)
        if has_lat != has_lon:
            missing = self.longitude if has_lat else self.latitude
            missing.errors = [
                *missing.errors,
                _("Enter the longitude too, or leave both coordinates empty.")
                if has_lat
                else _("Enter the latitude too, or leave both coordinates empty."),
            ]
            valid = False
        elif not has_lat and not self.address.data and not self.address.errors:
            self.address.errors = [
                *self.address.errors,
                _("Enter the address of the incident, or its latitude and longitude."),
            ]
            valid = False
        return valid

    # --- the values, once valid ---------------------------------------------------------------

    @property
    def radius_m(self) -> int:
        return int(re.sub(r"\D", "", self.radius.data))

    def query(self) -> SearchQuery:
        return SearchQuery(
            case_number=self.case_number.data,
            reason=self.reason.data,
            radius_m=self.radius_m,
            coordinates=self.coordinates,
            address=self.address.data or None,
        )

    @property
    def coordinates(self) -> tuple[float, float] | None:
        if not self.latitude.data:
            return None
        return parse_number(self.latitude.data), parse_number(self.longitude.data)
