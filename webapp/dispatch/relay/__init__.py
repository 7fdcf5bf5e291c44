"""The emergency text relay: texts to our number that reach the city's dispatchers, and what
dispatchers do with them. The SMS channel, the dispatch console and the SMS worker call these
services; every name the console needs is importable from here (``relay.claim(...)``).

- ``texter``: filing a stored text in its number's session (``receive``). An emergency keyword
  opens a session or joins the live one; while a session is live (open or claimed) every
  later text from the number joins it, whatever it says, and only STOP keeps its meaning too.
  Only the text that opens a session, or a new keyword while nobody has claimed it, is
  answered: dispatchers have it and CALL 911 IF YOU CAN, or the line is not monitored right
  now; if filing fails, "we could not pass your message on: call 911".
- ``duty``: who is on duty (signed in past the second factor and seen within 5 minutes).
- ``sessions``: the queue, a session's thread, and the dispatcher's actions.
- ``escalation``: unclaimed sessions escalated to the texter and supervisors, sessions whose
  dispatcher left put back in the queue, long-unclaimed ones closed.
- ``recovery``: stored texts that reached no session filed after a failure.

docs/sms.md ("Emergency texts") gives the rules and why.
"""

from .duty import (
    DUTY_SEEN_WITHIN,
    dispatchers_on_duty,
    is_on_duty,
    on_duty_dispatchers,
    set_duty,
)
from .errors import (
    MAX_REPLY_LENGTH,
    AlreadyClaimed,
    AlreadyClosed,
    DispatcherUnavailable,
    NotADispatcher,
    NotFound,
    NotOnDuty,
    NotTextable,
    NotYours,
    RelayError,
    ReplyEmpty,
    ReplyTooLong,
    StillAnswering,
    UnknownOutcome,
    UnknownQuickReply,
)
from .escalation import escalate_due, lapse_stale, release_stranded
from .recovery import recover
from .sessions import (
    OUTCOMES,
    QUICK_REPLIES,
    SessionRow,
    ThreadEntry,
    claim,
    close,
    get_session,
    live_sessions,
    mark_read,
    quick_reply,
    reply,
    thread,
    transfer,
)
from .texter import log_failure, receive

__all__ = [
    "DUTY_SEEN_WITHIN",
    "MAX_REPLY_LENGTH",
    "OUTCOMES",
    "QUICK_REPLIES",
    "AlreadyClaimed",
    "AlreadyClosed",
    "DispatcherUnavailable",
    "NotADispatcher",
    "NotFound",
    "NotOnDuty",
    "NotTextable",
    "NotYours",
    "RelayError",
    "ReplyEmpty",
    "ReplyTooLong",
    "SessionRow",
    "StillAnswering",
    "ThreadEntry",
    "UnknownOutcome",
    "UnknownQuickReply",
    "claim",
    "close",
    "dispatchers_on_duty",
    "escalate_due",
    "get_session",
    "is_on_duty",
    "lapse_stale",
    "live_sessions",
    "log_failure",
    "mark_read",
    "on_duty_dispatchers",
    "quick_reply",
    "receive",
    "recover",
    "release_stranded",
    "reply",
    "set_duty",
    "thread",
    "transfer",
]
