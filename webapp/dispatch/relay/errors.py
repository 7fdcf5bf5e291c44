"""The relay's errors: ``NotFound`` (the console answers 404) and ``RelayError``s, problems the
dispatcher can act on, each with a translated message (and a form field when one fits)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ...errors import ServiceError

MAX_REPLY_LENGTH = 640  # characters: 5 segments in GSM-7, 10 in Chinese or Arabic


class NotFound(LookupError):
    """No such session (the console answers 404)."""


class RelayError(ServiceError):
    """A problem the dispatcher can act on (same shape as account errors: message, field)."""


class NotADispatcher(RelayError):
    message = _l("Only dispatchers can answer emergency texts.")


class NotOnDuty(RelayError):
    message = _l("Go on duty before you answer emergency texts.")


class AlreadyClosed(RelayError):
    message = _l("This emergency text session is closed.")


class AlreadyClaimed(RelayError):
    message = _l("Another dispatcher is answering this emergency text session.")


class NotYours(RelayError):
    message = _l("Only the dispatcher answering this session can do this. Claim it first.")


class StillAnswering(RelayError):
    message = _l("Transfer or close your emergency text sessions before you go off duty.")


class DispatcherUnavailable(RelayError):
    message = _l("Choose another dispatcher who is on duty now.")
    field = "to_user_id"


class UnknownOutcome(RelayError):
    message = _l("Choose how the session ended.")
    field = "outcome"


class UnknownQuickReply(RelayError):
    message = _l("Choose one of the quick replies.")
    field = "key"


class ReplyEmpty(RelayError):
    message = _l("Write a reply first.")
    field = "body"


class ReplyTooLong(RelayError):
    message = _l("A reply can be at most %(max)d characters.", max=MAX_REPLY_LENGTH)
    field = "body"


class NotTextable(RelayError):
    message = _l("This number cannot receive texts. Call it back if you can.")
