"""The worker process (``flask --app wsgi sms worker``): each round it files spooled texts
once the database answers again, runs the emergency relay's timers, and sends queued texts.

Every step is idempotent and safe with several workers (the spool's MessageSid, the relay's
per-number locks, ``SKIP LOCKED`` claims), and a failure in one step is logged and never
stops the others: the next round tries again.
"""

from __future__ import annotations

import logging
import time

from .dispatch import relay
from .dispatch.relay.recovery import RECOVERY_LOOKBACK
from .errors import log_failure
from .extensions import db
from .models.types import utcnow
from .sms.worker import deliver_due
from .sms_inbound import spool

log = logging.getLogger(__name__)

RECOVER_EVERY = 10.0  # seconds between two searches for emergency texts that reached no session
SPOOL_EVERY = 1.0  # seconds between two looks at the spool (a spooled 911 text waits no longer)


def run(once: bool = False, idle_sleep: float = 0.5) -> int:
    """Work until stopped (or, with ``once``, until nothing is due now); return how many
    queued texts were handled."""
    total = 0
    next_recovery = next_spool = 0.0
    while True:
        now = time.monotonic()
        if now >= next_spool:
            next_spool = now + SPOOL_EVERY
            _step("spool import", spool.import_all)
        recover_texts = now >= next_recovery
        if recover_texts:
            next_recovery = now + RECOVER_EVERY
        relay_tick(recover_texts=recover_texts)
        handled = _step("sending", deliver_due) or 0
        total += handled
        if not handled:
            if once:
                return total
            time.sleep(idle_sleep)


def relay_tick(*, recover_texts: bool = True) -> None:
    """Escalate emergency sessions waiting too long, put back those whose dispatcher left,
    close those long left unclaimed, and (``recover_texts``) file stored emergency texts that
    reached no session."""
    steps = [relay.escalate_due, relay.release_stranded, relay.lapse_stale]
    if recover_texts:
        steps.insert(0, lambda: relay.recover(since=utcnow() - RECOVERY_LOOKBACK))
    for step in steps:
        _step("emergency relay step", step)


def _step(what: str, step):
    try:
        return step()
    except Exception as error:  # the database is away, say: the next round tries again
        db.session.rollback()
        log_failure(log, f"{what} failed; next round again", error)
        return None
