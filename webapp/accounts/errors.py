"""Account errors: problems a person can fix, each with a translated message and, when it
belongs to one, the form field to show it next to."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..errors import ServiceError


class AccountError(ServiceError):
    """A problem with an account the person can fix."""


class PhoneTaken(AccountError):
    message = _l("An account already uses this phone number. Sign in or reset your password.")
    field = "phone"


class InvalidCredentials(AccountError):
    message = _l("The phone number or password is not right.")


class WrongPassword(AccountError):
    message = _l("The password is not right.")
    field = "password"


class AccountLocked(AccountError):
    message = _l(
        "Too many failed attempts. This account is locked for 10 minutes. "
        "You can reset your password by text message."
    )


class CodeProblem(AccountError):
    message = _l("The code is not right. Check the latest text we sent and try again.")
    field = "code"


class CodeExpired(CodeProblem):
    message = _l("The code has expired or was already used. Ask for a new code.")


class CodeAttemptsExhausted(CodeProblem):
    message = _l("Too many wrong codes. Ask for a new code.")


class ResendTooSoon(AccountError):
    message = _l("We sent a code less than a minute ago. Please wait before asking again.")


class TooManyCodes(AccountError):
    message = _l("Too many codes were sent to this number. Please try again in an hour.")


class SmsNotSent(AccountError):
    message = _l("We could not send a text to this number. Check it and try again.")
    field = "phone"


class SmsStopped(SmsNotSent):
    message = _l(
        "This number has asked us to stop sending texts. Text START to us from it, then try again."
    )


class SecondFactorProblem(AccountError):
    message = _l(
        "The code is not right. Enter the 6-digit code your authenticator app shows now, "
        "or one of your recovery codes."
    )
    field = "code"


class SecondFactorReused(SecondFactorProblem):
    message = _l("This code was already used. Wait for your app to show a new code, then enter it.")


class SecondFactorLocked(AccountError):
    message = _l("Too many wrong codes. This account is locked for 10 minutes.")
