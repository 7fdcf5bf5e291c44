"""The English texts the SMS channel sends, as the catalogs know them (their msgids), for
``web.reply_in`` to find in any language."""

HELP = "%(program)s: %(site)s. Msg frequency varies. Msg & data rates may apply. Reply STOP to end. Commands: STATUS, CONFIRM, CAMERA ON/OFF, LANG. Emergency: call 911."  # noqa: E501
UNKNOWN = "%(program)s: sign up at %(site)s to tell 911 about your household. Msg frequency varies. Msg & data rates may apply. Reply HELP for help, STOP to end. Emergency: call 911."  # noqa: E501
STOPPED = "%(program)s: you will get no more texts from us. Reply START to get them again."
STARTED = (
    "%(program)s: texts are on again. Msg & data rates may apply. Reply HELP for help, STOP to end."
)
CONFIRMED = "%(program)s: thank you. Your safety profile is confirmed until %(date)s."
INCOMPLETE = "%(program)s: your profile needs your home address and your OK to share it with 911. Please finish it on our website."  # noqa: E501
FOOTAGE_UNKNOWN = (
    "%(program)s: no open footage request has the code %(code)s. It may have closed. See your "
    "requests on our website."
)
NOT_UNDERSTOOD = (
    "If this is an emergency, call 911. %(program)s: we did not understand. Reply HELP for help."
)
CAMERA_NONE = "%(program)s: you have no camera registration. Register at %(site)s."
STATUS = "%(program)s: profile %(state)s. Camera requests: %(camera)s. Language: %(language)s."
# The relay's instant reply with no dispatcher on duty (test_emergency_relay.py: the rest).
EMERGENCY = "%(program)s: this line is not monitored right now. Do not wait for an answer: CALL 911 NOW. If you cannot speak, text 911 directly."  # noqa: E501
