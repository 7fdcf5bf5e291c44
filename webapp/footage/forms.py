"""The officer's request form. Validators check shape only; the rules (window length, who can
be asked, case number format) live in services.py."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, Field, FloatField, StringField, TextAreaField, TimeField
from wtforms.validators import InputRequired, Length
from wtforms.widgets import HiddenInput

from .services import DESCRIPTION_MAX, CaseNumberNeeded, DescriptionNeeded, DescriptionTooLong

DESCRIPTION_HINT = _l(
    "What happened, and what the cameras may have seen, in a few words. No victim details: no "
    "names, ages or injuries. The owners read this."
)


class IdsField(Field):
    """Registration ids, one form value each (``registration=12&registration=40``), as the
    police search results page posts them; the template draws them as checkboxes."""

    def process_formdata(self, valuelist):
        self.data = []
        for value in valuelist:
            if value.strip().isdigit():
                self.data.append(int(value))

    def process_data(self, value):
        self.data = list(value or [])


class LocalDateField(DateField):
    """A date in the city's time zone, with a translated error (the browser shows a date
    picker; old phones get a text box)."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None  # InputRequired speaks for an empty box
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date like 2026-11-21.")) from None


class LocalTimeField(TimeField):
    def __init__(self, label, **kwargs):
        super().__init__(label, format=["%H:%M", "%H:%M:%S"], **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a time like 14:30 (24-hour clock).")) from None


def _required(message):
    return [InputRequired(message=message)]


class RequestForm(FlaskForm):
    registration = IdsField()
    latitude = FloatField(widget=HiddenInput())
    longitude = FloatField(widget=HiddenInput())
    case_number = StringField(
        _l("Case number"),
        validators=_required(CaseNumberNeeded.message),
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    start_date = LocalDateField(_l("Date"), validators=_required(_l("Enter the start date.")))
    start_time = LocalTimeField(_l("Time"), validators=_required(_l("Enter the start time.")))
    end_date = LocalDateField(_l("Date"), validators=_required(_l("Enter the end date.")))
    end_time = LocalTimeField(_l("Time"), validators=_required(_l("Enter the end time.")))
    description = TextAreaField(
        _l("What happened"),
        validators=[
            InputRequired(message=DescriptionNeeded.message),
            Length(max=DESCRIPTION_MAX, message=DescriptionTooLong.message),
        ],
        render_kw={"rows": 4, "maxlength": DESCRIPTION_MAX},
    )

    def start_today(self) -> None:
        """The first showing: both dates default to today in the city."""
        today = datetime.now(city_zone()).date()
        self.start_date.data = self.start_date.data or today
        self.end_date.data = self.end_date.data or today

    def window(self) -> tuple[datetime, datetime]:
        """The window as aware UTC datetimes (entered in the city's time zone)."""
        return (
            to_utc(self.start_date.data, self.start_time.data),
            to_utc(self.end_date.data, self.end_time.data),
        )


def city_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])


def to_utc(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=city_zone()).astimezone(UTC)
