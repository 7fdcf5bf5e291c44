"""Phone numbers: parsed with ``phonenumbers`` and stored as E.164."""

from __future__ import annotations

import phonenumbers


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, region: str = "US") -> str:
    """``raw`` as typed by a person ("(312) 555-0142", "+48 601 234 567") in E.164."""
    if not raw or len(raw) > 40:
        raise InvalidPhoneNumber(raw)
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise InvalidPhoneNumber(raw) from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhoneNumber(raw)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display(e164: str) -> str:
    """The international format people read ("+1 312-555-0142")."""
    number = phonenumbers.parse(e164, None)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def masked(e164: str) -> str:
    """Only the last digits, for pages that confirm where a code went."""
    return "•••• " + e164[-4:]
