"""The browser tests' live server (``tests/support/browser.py``) waits, when it stops, for the
requests it is still handling, so that none outlives the test and gives its database
connection back to a pool the test has already disposed (the leak guard in ``make_app``
fails the test that leaves a connection open)."""

from __future__ import annotations

import threading
import time

import psycopg
import pytest

from ..support.database import PG_URL
from ..support.twilio import text_live_server
from ..support.web import new_phone

pytestmark = pytest.mark.skipif(not PG_URL, reason="a lock held in the database server")


def test_a_request_still_running_when_the_test_ends_is_waited_for(live_server):
    holder = psycopg.connect(PG_URL)
    holder.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")  # the text waits for it
    request = threading.Thread(
        target=text_live_server, args=(live_server, new_phone(), "HELP"), daemon=True
    )
    request.start()
    time.sleep(0.3)
    threading.Timer(0.3, lambda: (holder.rollback(), holder.close())).start()
    assert request.is_alive()  # still running as the test ends and the server stops
