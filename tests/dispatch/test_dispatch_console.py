"""The dispatcher console (issue 6): the queue with the dispatcher's duty, unread counts and
who answers each session; its JSON for the live page; a session's page with the
conversation, each reply's delivery state from Twilio's callbacks, the texter's profile
(audited) and the dispatcher's actions through the pages; and, in a real browser, a
dispatcher answering a session while the resident's texts arrive.

Texts arrive as signed Twilio webhooks; replies leave through the outbox and the worker to a
local fake of Twilio's API, whose status callbacks are signed too.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from markupsafe import escape
from playwright.sync_api import expect
from sqlalchemy import select

from webapp.dispatch import console_routes
from webapp.dispatch.console_routes import QUEUE_POLL_SECONDS, SESSION_POLL_SECONDS
from webapp.extensions import db
from webapp.models import (
    AuditEvent,
    EmergencySession,
    HouseholdMember,
    OutboundMessage,
    Profile,
    Role,
    User,
)
from webapp.sms import texts
from webapp.sms.worker import deliver_due

from ..support.browser import assert_no_axe_violations, sign_in_staff
from ..support.twilio import status_callback, text_live_server, twilio_settings
from ..support.twilio import text as send
from ..support.web import new_phone, submit, texts_to

CONSOLE = "/staff/dispatch/"
JSON = "/staff/dispatch/sessions.json"


@pytest.fixture
def app(make_app, fake_twilio):
    """Texts go out for real: the outbox, then the worker, then (fake) Twilio."""
    return make_app(**twilio_settings(fake_twilio.url, DISPATCH_AGENCY="OEMC Chicago"))


@pytest.fixture
def dispatcher(sign_in_as):
    """Builder: a dispatcher signed in (second factor passed) who went on duty on the page."""

    def build(on_duty: bool = True):
        client, account = sign_in_as(Role.DISPATCHER)
        if on_duty:
            response = submit(client, "/staff/dispatch/duty", {"on": "1"}, page=CONSOLE)
            assert response.status_code == 302
        return client, account

    return build


def text(app, phone: str, body: str, at: datetime | None = None) -> str:
    """``phone`` texts ``body`` (at ``at``); returns the instant reply."""
    with time_machine.travel(at or datetime.now(UTC), tick=at is None):
        status, reply = send(app.test_client(), phone, body)
    assert status == 200
    return reply


def session_of(app, phone: str) -> int:
    with app.app_context():
        return db.session.scalar(
            select(EmergencySession.id).where(EmergencySession.phone == phone)
            .order_by(EmergencySession.id.desc())
        )  # fmt: skip


def page(client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def post(client, path: str, data: dict | None = None, page_path: str = CONSOLE):
    return submit(client, path, data or {}, page=page_path)


def session_path(session_id: int) -> str:
    return f"/staff/dispatch/sessions/{session_id}"


def claimed(app, client, body: str) -> tuple[str, str]:
    """A new texter opens a session with ``body``; the dispatcher on ``client`` claims it (or
    tries to). Returns the texter's phone and the session page's path."""
    phone = new_phone()
    text(app, phone, body)
    path = session_path(session_of(app, phone))
    post(client, f"{path}/claim", page_path=path)
    return phone, path


ROW_RE = re.compile(r'<tr data-session="(\d+)"[^>]*>(.*?)</tr>', re.S)
CELL_RE = re.compile(r"<td>(.*?)</td>", re.S)


def queue_rows(html: str) -> list[tuple[int, list[str]]]:
    """The queue's rows in page order: (session id, the cells' text)."""
    return [
        (int(session_id), [" ".join(unescape(re.sub(r"<[^>]+>", " ", c)).split())
                           for c in CELL_RE.findall(row)])
        for session_id, row in ROW_RE.findall(html)
    ]  # fmt: skip


def flashes(html: str) -> list[str]:
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", m)).split())
        for m in re.findall(r'<div class="notice notice-\w+" role="\w+">(.*?)</div>', html, re.S)
    ]


def audit(app, prefix: str = "") -> list[tuple]:
    with app.app_context():
        return [
            (e.action, e.actor_id, e.subject_type, e.subject_id, e.reason)
            for e in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))
            if e.action.startswith(prefix)
        ]


def the_session(app, session_id: int) -> EmergencySession:
    with app.app_context():
        session = db.session.get(EmergencySession, session_id)
        db.session.expunge(session)
        return session


# --- who may use it --------------------------------------------------------------------------


@pytest.mark.parametrize("role", list(Role))
def test_only_dispatchers_reach_the_console(app, sign_in_as, role):
    phone = new_phone()
    text(app, phone, "911 fire")
    session_id = session_of(app, phone)
    client, _ = sign_in_as(role)
    for path in (CONSOLE, JSON, session_path(session_id), f"{session_path(session_id)}.json"):
        assert client.get(path).status_code == (200 if role is Role.DISPATCHER else 403), path
    claim = post(client, f"{session_path(session_id)}/claim", page_path="/terms")
    assert claim.status_code == (302 if role is Role.DISPATCHER else 403)


def test_anonymous_visitors_are_sent_to_sign_in(app, client):
    for path in (CONSOLE, JSON, session_path(1)):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/account/sign-in?next=")


def test_an_unknown_session_is_not_found(dispatcher):
    client, _ = dispatcher()
    assert client.get(session_path(999)).status_code == 404
    assert client.get(f"{session_path(999)}.json").status_code == 404
    assert post(client, f"{session_path(999)}/claim").status_code == 404


# --- duty ------------------------------------------------------------------------------------


def test_a_dispatcher_goes_on_and_off_duty_and_texters_are_told_which(app, dispatcher):
    client, account = dispatcher(on_duty=False)
    html = page(client, CONSOLE)
    assert "You are off duty." in html and ">Go on duty</button>" in html
    assert "No dispatcher is on duty" in html
    assert "this line is not monitored" in text(app, new_phone(), "911 fire")

    response = post(client, "/staff/dispatch/duty", {"on": "1"})
    assert response.headers["Location"] == CONSOLE
    html = page(client, CONSOLE)
    assert "You are on duty" in html and ">Go off duty</button>" in html
    assert "1 dispatcher is on duty." in html
    with app.app_context():
        assert db.session.get(User, account.id).on_duty_since is not None
    assert "911 dispatchers have your message" in text(app, new_phone(), "911 fire")

    post(client, "/staff/dispatch/duty", {"on": "0"})
    assert "You are off duty." in page(client, CONSOLE)
    with app.app_context():
        assert db.session.get(User, account.id).on_duty_since is None
    assert [a[0] for a in audit(app, "emergency.duty")] == [
        "emergency.duty_on", "emergency.duty_off",
    ]  # fmt: skip


def test_going_off_duty_is_refused_while_answering_a_session(app, dispatcher):
    client, account = dispatcher()
    phone = new_phone()
    text(app, phone, "911 fire")
    session_id = session_of(app, phone)
    post(client, f"{session_path(session_id)}/claim")

    response = post(client, "/staff/dispatch/duty", {"on": "0"}, page_path=CONSOLE)
    html = client.get(response.headers["Location"]).get_data(as_text=True)

    assert "Transfer or close your emergency text sessions before you go off duty." in html
    with app.app_context():
        assert db.session.get(User, account.id).on_duty_since is not None


# --- the queue -------------------------------------------------------------------------------


@pytest.fixture
def busy(app, dispatcher):
    """Three sessions opened a minute apart; dispatcher A answers the middle one, has read
    it, and its texter has written again since; dispatcher B is on duty too."""
    a_client, a = dispatcher()
    b_client, b = dispatcher()
    now = datetime.now(UTC)
    phones = [new_phone() for _ in range(3)]
    text(app, phones[0], "911 fire on the third floor", at=now - timedelta(minutes=3))
    text(app, phones[1], "911 someone broke in", at=now - timedelta(minutes=2))
    text(
        app,
        phones[1],
        "they are still inside",
        at=now - timedelta(minutes=2) + timedelta(seconds=5),
    )
    text(app, phones[2], "911 smoke", at=now - timedelta(minutes=1))
    ids = [session_of(app, phone) for phone in phones]
    post(a_client, f"{session_path(ids[1])}/claim")
    page(a_client, session_path(ids[1]))  # reads both texts
    text(app, phones[1], "hurry please")
    return {"a": (a_client, a), "b": (b_client, b), "ids": ids, "phones": phones}


def test_the_queue_lists_waiting_sessions_first_longest_waiting_first(app, busy):
    b_client, _ = busy["b"]
    _, a = busy["a"]
    first, answered, last = busy["ids"]

    html = page(b_client, CONSOLE)
    rows = queue_rows(html)

    # Waiting for a dispatcher (oldest first), then being answered.
    assert [session_id for session_id, _ in rows] == [first, last, answered]
    cells = dict(rows)
    # Session, number, waiting, unread, language (, answered by).
    assert cells[first][1] == busy["phones"][0]
    assert re.fullmatch(r"3:0\d", cells[first][2])
    assert re.fullmatch(r"1:0\d", cells[last][2])
    assert [cells[first][3], cells[last][3], cells[answered][3]] == ["1", "1", "1"]
    assert cells[first][4] == "English"
    assert cells[answered][5] == f"dispatcher {a.id} (phone ending {a.phone[-4:]})"
    assert "2 new emergency text sessions are waiting for a dispatcher." in html
    assert "<title>(2) Dispatch console" in html
    assert "2 dispatchers are on duty." in html
    # Numbers stay left-to-right on right-to-left pages.
    assert f'<bdi dir="ltr">{busy["phones"][0]}</bdi>' in html


def test_the_dispatcher_answering_a_session_sees_it_as_theirs(busy):
    a_client, _ = busy["a"]
    cells = dict(queue_rows(page(a_client, CONSOLE)))
    assert cells[busy["ids"][1]][5] == "you"


def test_the_queue_refreshes_itself_without_javascript_and_polls_with_it(app, dispatcher):
    client, _ = dispatcher()
    html = page(client, CONSOLE)
    # The meta refresh counts only with scripts off, so it never fights the polling.
    assert re.search(
        r'<noscript><meta http-equiv="refresh" content="10;url=/staff/dispatch/"></noscript>', html
    )
    assert '<script src="/static/js/dispatch.js" defer></script>' in html
    assert 'data-poll-url="/staff/dispatch/sessions.json"' in html
    with client.get("/static/js/dispatch.js") as script:  # a file of our own: CSP 'self'
        assert script.status_code == 200 and "javascript" in script.content_type
        assert b"AudioContext" in script.data and b"innerHTML" in script.data


def test_the_json_endpoint_gives_the_queue_without_message_words(app, busy):
    b_client, _ = busy["b"]
    _, a = busy["a"]
    first, answered, last = busy["ids"]

    response = b_client.get(JSON)

    assert response.status_code == 200 and response.is_json
    assert response.headers["Cache-Control"] == "no-store"
    data = response.get_json()
    assert (data["on_duty"], data["dispatchers_on_duty"], data["new"]) == (True, 2, 2)
    assert data["alert"] == "2 new emergency text sessions are waiting for a dispatcher."
    sessions = data["sessions"]
    assert [s["id"] for s in sessions] == [first, answered, last]  # longest waiting first
    assert [s["status"] for s in sessions] == ["open", "claimed", "open"]
    assert [s["unread"] for s in sessions] == [1, 1, 1]
    assert sessions[1]["claimed_by"] == a.id and sessions[1]["mine"] is False
    assert 180 <= sessions[0]["waiting_seconds"] < 240
    assert set(sessions[0]) >= {"opened_at", "last_message_at", "locale", "escalated"}
    # The fragments are the page's own.
    assert [i for i, _ in queue_rows(data["html"])] == [first, last, answered]
    assert "2 new emergency text sessions" in data["alert_html"]
    # What texters wrote never goes into the queue.
    raw = response.get_data(as_text=True)
    for words in ("fire", "broke in", "inside", "hurry", "smoke"):
        assert words not in raw


def test_the_json_endpoint_says_when_nothing_is_waiting(dispatcher):
    client, _ = dispatcher()
    data = client.get(JSON).get_json()
    assert (data["new"], data["alert"], data["sessions"]) == (0, "", [])
    assert "Nobody is waiting." in data["html"]


# --- a session: claim, transfer, close -------------------------------------------------------


def test_claim_transfer_and_close_through_the_pages(app, dispatcher):
    a_client, a = dispatcher()
    b_client, b = dispatcher()
    _, away = dispatcher(on_duty=False)
    phone = new_phone()
    text(app, phone, "911 my neighbour collapsed")
    session_id = session_of(app, phone)
    path = session_path(session_id)

    assert "Claim: I will answer this session" in page(b_client, path)
    response = post(a_client, f"{path}/claim", page_path=path)
    assert response.headers["Location"] == path
    html = page(a_client, path)
    assert "You are answering this session." in html
    assert "Answered by you" in html
    # B comes too late.
    post(b_client, f"{path}/claim", page_path=path)
    html = page(b_client, path)
    assert "Another dispatcher is answering this emergency text session." in html
    assert f"Answered by dispatcher {a.id}" in html
    assert "Claim: I will answer" not in html and "Ask for the address" not in html

    # A hands it to B, chosen from the dispatchers on duty (not the one who is away).
    html = page(a_client, path)
    assert (
        f'<option value="{b.id}">dispatcher {b.id} (phone ending {b.phone[-4:]})</option>' in html
    )
    assert f'<option value="{away.id}"' not in html
    response = post(a_client, f"{path}/transfer", {"to_user_id": str(away.id)}, page_path=path)
    assert response.status_code == 200
    assert "Choose another dispatcher who is on duty now." in response.get_data(as_text=True)
    response = post(a_client, f"{path}/transfer", {"to_user_id": str(b.id)}, page_path=path)
    assert response.headers["Location"] == CONSOLE
    assert the_session(app, session_id).claimed_by_id == b.id
    assert f"Session {session_id} is transferred." in page(a_client, CONSOLE)

    # Only the one answering may close it, and only with an outcome.
    post(a_client, f"{path}/close", {"outcome": "help_sent"}, page_path=path)
    assert the_session(app, session_id).status == "claimed"
    response = post(b_client, f"{path}/close", {"outcome": ""}, page_path=path)
    assert response.status_code == 200
    assert "Choose how the session ended." in response.get_data(as_text=True)
    response = post(b_client, f"{path}/close", {"outcome": "help_sent"}, page_path=path)
    assert response.headers["Location"] == CONSOLE
    session = the_session(app, session_id)
    assert (session.status, session.outcome) == ("closed", "help_sent")
    html = page(b_client, CONSOLE)
    assert f"Session {session_id} is closed." in html
    assert "Nobody is waiting." in html and "No session is being answered." in html
    assert "Closed on" in page(b_client, path) and "Help was sent" in page(b_client, path)

    assert [(action, actor, reason) for action, actor, _, _, reason in audit(app, "emergency.")
            if action in ("emergency.claimed", "emergency.transferred", "emergency.closed")] == [
        ("emergency.claimed", a.id, None),
        ("emergency.transferred", a.id, f"to user {b.id}"),
        ("emergency.closed", b.id, "help_sent"),
    ]  # fmt: skip


def test_claiming_needs_being_on_duty(app, dispatcher):
    client, _ = dispatcher(on_duty=False)
    phone, path = claimed(app, client, "911 fire")
    assert "Go on duty before you answer emergency texts." in page(client, path)
    assert the_session(app, session_of(app, phone)).status == "open"


# --- a session: replies and their delivery ---------------------------------------------------


def test_replies_go_out_through_the_outbox_quick_ones_in_the_texters_language(app, dispatcher):
    client, _ = dispatcher()
    phone, path = claimed(app, client, "POMOCY pożar w kuchni")

    html = page(client, path)
    # The buttons speak the dispatcher's language; the preview is what the texter gets.
    with app.app_context():
        previews = {key: texts.render(template, "pl") for key, template in (
            ("address", "emergency_ask_address"), ("safe", "emergency_ask_safe"),
            ("help_coming", "emergency_help_coming"))}  # fmt: skip
    for label, key in (("Ask for the address", "address"), ("Ask if they are safe", "safe"),
                       ("Say help is on the way", "help_coming")):  # fmt: skip
        assert f'value="{key}" aria-describedby="preview-{key}">{label}</button>' in html
        assert f'<q lang="pl" dir="ltr">{escape(previews[key])}</q>' in html
    assert "Quick replies go in the texter's language (Polish)." in html

    response = post(client, f"{path}/quick-reply", {"key": "address"}, page_path=path)
    assert response.headers["Location"] == path
    response = post(client, f"{path}/reply", {"body": "Wychodźcie z mieszkania.\nJuż jedziemy."},
                    page_path=path + "?compose=1")  # fmt: skip
    assert response.headers["Location"] == path

    sent = texts_to(app, phone)
    assert [(t.template, t.locale, t.body, t.status) for t in sent] == [
        ("emergency_ask_address", "pl", previews["address"], "pending"),
        ("emergency_reply", "pl", "Wychodźcie z mieszkania.\nJuż jedziemy.", "pending"),
    ]
    html = page(client, path)
    conversation = html[html.index('<ol class="conversation">') :]
    assert conversation.count("Dispatcher: you") == 2
    assert conversation.count('<span class="delivery delivery-queued">Queued</span>') == 2
    assert "Wychodźcie z mieszkania.\nJuż jedziemy." in conversation
    assert [a[0] for a in audit(app, "emergency.") if a[0] in (
        "emergency.quick_reply", "emergency.replied")] == [
        "emergency.quick_reply", "emergency.replied"]  # fmt: skip


def test_a_reply_page_keeps_what_was_typed_and_does_not_refresh_while_writing(app, dispatcher):
    client, _ = dispatcher()
    phone, path = claimed(app, client, "911 fire")

    reading = page(client, path)
    refresh = f'<noscript><meta http-equiv="refresh" content="15;url={path}"></noscript>'
    assert refresh in reading
    assert f'href="{path}?compose=1#body">Write a reply</a>' in reading
    writing = page(client, f"{path}?compose=1")
    assert 'http-equiv="refresh"' not in writing
    assert 'dir="auto" id="body" maxlength="640" name="body"' in writing
    assert 'data-poll-url="' + path + '.json"' in writing  # with JavaScript, texts still come

    response = post(client, f"{path}/reply", {"body": "   "}, page_path=path)
    assert response.status_code == 200
    assert "Write a reply first." in response.get_data(as_text=True)
    too_long = "x" * 641
    response = post(client, f"{path}/reply", {"body": too_long}, page_path=path)
    html = response.get_data(as_text=True)
    assert "A reply can be at most 640 characters." in html
    assert too_long in html and 'http-equiv="refresh"' not in html
    assert html.count("<title>Error: ") == 1
    assert texts_to(app, phone) == []


def callback(client, sid: str, status: str, **extra: str):
    assert status_callback(client, sid, status, **extra).status_code == 204


def delivery_states(client, path: str) -> list[str]:
    html = page(client, path)
    return re.findall(r'<span class="delivery delivery-\w+">([^<]+)</span>', html)


def test_each_reply_shows_its_delivery_state_from_twilios_callbacks(app, dispatcher):
    client, _ = dispatcher()
    phone, path = claimed(app, client, "911 fire")
    post(client, f"{path}/quick-reply", {"key": "safe"}, page_path=path)
    post(client, f"{path}/reply", {"body": "Get out and stay out."}, page_path=path)
    assert delivery_states(client, path) == ["Queued", "Queued"]

    with app.app_context():
        assert deliver_due() == 2  # the worker hands both to (fake) Twilio
        sids = list(db.session.scalars(
            select(OutboundMessage.provider_sid).where(OutboundMessage.to == phone)
            .order_by(OutboundMessage.id)
        ))  # fmt: skip
    assert delivery_states(client, path) == ["Queued", "Queued"]

    webhook = app.test_client()
    callback(webhook, sids[0], "sent")
    assert delivery_states(client, path) == ["Sent", "Queued"]
    callback(webhook, sids[0], "delivered")
    callback(webhook, sids[1], "undelivered", ErrorCode="30003")
    assert delivery_states(client, path) == ["Delivered", "Not delivered"]


# --- a session: the texter's profile ---------------------------------------------------------


@pytest.fixture
def registered_texter(app, make_user):
    """A resident whose profile is shown to 911, confirmed 12 days ago."""
    account = make_user(locale="pl")
    with app.app_context():
        profile = Profile(
            user_id=account.id, street="3500 W Lawrence Ave", unit="2", city="Chicago",
            state="IL", zip_code="60625", access_notes="Lock box 4321 by the side door",
            hazards="Oxygen tanks in the bedroom", share_with_911=True,
            confirmed_at=datetime.now(UTC) - timedelta(days=12),
        )  # fmt: skip
        profile.members = [
            HouseholdMember(name="Zofia Nowak", relationship_="self", birth_year=1941,
                            language="Polish", interpreter_needed=True,
                            medical_conditions="Type 2 diabetes", vaccinations="Flu 2026")
        ]  # fmt: skip
        db.session.add(profile)
        db.session.commit()
    return account


def test_a_registered_texters_profile_is_shown_without_a_lookup_and_audited(
    app, dispatcher, registered_texter
):
    client, a = dispatcher()
    text(app, registered_texter.phone, "911 nie mogę oddychać")
    session_id = session_of(app, registered_texter.phone)

    html = page(client, session_path(session_id))

    assert '<a href="#profile-panel-title">Found: see below</a>' in html
    panel = html[html.index('<section class="profile-panel"') :]
    assert "Confirmed by the resident on" in panel and "12 days ago" in panel
    assert "Interpreter needed" in panel and "<bdi>Polish</bdi>" in panel
    assert "3500 W Lawrence Ave" in panel and "Lock box 4321" in panel
    assert "Type 2 diabetes" in panel
    assert "Flu 2026" not in panel  # only what responders need
    assert "Language of the account holder" in panel
    # Audited: the reading, a look-up for the text session, and on the resident's side.
    assert [e for e in audit(app) if e[0] in ("emergency.read", "dispatch.lookup")] == [
        ("emergency.read", a.id, "emergency_session", session_id, None),
        ("dispatch.lookup", a.id, "profile_lookup", 1, f"TEXT-{session_id}"),
    ]
    with app.app_context():
        viewed = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "profile.viewed")
        ).all()
        assert [(e.actor_id, e.subject_id, e.reason, e.agency) for e in viewed] == [
            (a.id, registered_texter.id, f"TEXT-{session_id}", "OEMC Chicago")
        ]

    page(client, session_path(session_id))  # inside the window: reopened, audited again
    assert [e[0] for e in audit(app, "profile.")] == ["profile.viewed", "profile.reopened"]


def test_a_sessions_json_gives_its_conversation_to_the_page_script(
    app, dispatcher, registered_texter
):
    client, a = dispatcher()
    text(app, registered_texter.phone, "911 nie mogę oddychać")
    session_id = session_of(app, registered_texter.phone)
    path = session_path(session_id)
    assert 'data-state="open"' in page(client, path)
    post(client, f"{path}/claim", page_path=CONSOLE)
    text(app, registered_texter.phone, "kuchnia, drugie piętro")

    data = client.get(f"{path}.json").get_json()

    assert (data["state"], data["inbound"]) == (f"claimed {a.id}", 2)
    assert data["html"].startswith('<ol class="conversation">')
    assert '<p class="body" dir="auto">kuchnia, drugie piętro</p>' in data["html"]
    # Reading is audited each time and clears the count; the profile is not looked at again.
    assert len(audit(app, "emergency.read")) == 2
    assert [e[0] for e in audit(app, "profile.")] == ["profile.viewed"]
    assert client.get(JSON).get_json()["sessions"][0]["unread"] == 0


def test_an_unregistered_texter_has_no_profile(app, dispatcher):
    client, _ = dispatcher()
    phone = new_phone()
    text(app, phone, "911 fire")
    html = page(client, session_path(session_of(app, phone)))
    assert "No safety profile is shown to 911 for this number." in html
    assert [e[4] for e in audit(app, "dispatch.lookup")] == [f"TEXT-{session_of(app, phone)}"]


def test_a_colleague_reading_along_sees_no_profile_and_leaves_the_unread_count(
    app, dispatcher, registered_texter
):
    a_client, _ = dispatcher()
    b_client, b = dispatcher()
    text(app, registered_texter.phone, "911 nie mogę oddychać")
    session_id = session_of(app, registered_texter.phone)
    path = session_path(session_id)
    post(a_client, f"{path}/claim", page_path=CONSOLE)  # claimed without opening it

    html = page(b_client, path)

    assert "nie mogę oddychać" in html
    assert "The texter's safety profile is shown to the dispatcher answering" in html
    assert "3500 W Lawrence Ave" not in html
    assert [e[:2] for e in audit(app, "profile.")] == []
    assert ("emergency.read", b.id) in [e[:2] for e in audit(app, "emergency.read")]
    assert a_client.get(JSON).get_json()["sessions"][0]["unread"] == 1
    # The dispatcher answering it sees both, and reading it clears the count.
    assert "3500 W Lawrence Ave" in page(a_client, path)
    assert a_client.get(JSON).get_json()["sessions"][0]["unread"] == 0


def test_arabic_texts_read_right_to_left_and_numbers_left_to_right(app, dispatcher):
    client, _ = dispatcher()
    phone, path = claimed(app, client, "طوارئ حريق في المطبخ")

    html = page(client, path)

    assert '<p class="body" dir="auto">طوارئ حريق في المطبخ</p>' in html
    assert f'<a href="tel:{phone}"><bdi dir="ltr">{phone}</bdi></a>' in html
    assert '<q lang="ar" dir="rtl">' in html
    # The dispatcher's own page in Arabic keeps the number left-to-right too.
    arabic = page(client, f"{path}?lang=ar")
    assert '<html lang="ar" dir="rtl">' in arabic and f'<bdi dir="ltr">{phone}</bdi>' in arabic


# --- what the pages say about the relay's limits ----------------------------------------------


def test_the_pages_say_the_relay_never_replaces_911(app, client, dispatcher):
    home = page(client, "/")
    assert "never replaces, calling 911 or texting 911 directly" in home
    console_client, _ = dispatcher()
    assert "supplements, and never replaces, the phone companies' own text-to-911" in page(
        console_client, CONSOLE
    )


# --- in a real browser -------------------------------------------------------------------------


def sign_in_as_dispatcher(page, base: str, user) -> None:
    sign_in_staff(page, base, user)
    expect(page).to_have_url(f"{base}/staff/dispatch/")


@pytest.mark.browser
def test_a_dispatcher_answers_a_session_while_the_residents_texts_arrive(
    browser, live_server, make_user
):
    user = make_user(Role.DISPATCHER)
    resident = new_phone()
    base = live_server.url
    with browser.new_context() as context:  # JavaScript on
        # The page's timers run on a clock the test moves on: each poll comes when the test
        # says its interval has passed, instead of after seconds of waiting (time flows as
        # usual otherwise).
        context.clock.install()
        page_ = context.new_page()
        sign_in_as_dispatcher(page_, base, user)
        page_.get_by_role("button", name="Go on duty").click()
        expect(page_.get_by_role("main")).to_contain_text("You are on duty")
        expect(page_.locator("html")).to_have_attribute("data-dispatch-live", "true")
        page_.get_by_role("button", name="Test the alert sound").click()  # lets sound play
        assert_no_axe_violations(page_)
        page_.evaluate("window.stillTheSamePage = true")

        reply = text_live_server(live_server, resident, "911 someone is breaking in, I can't talk")
        assert "911 dispatchers have your message" in reply

        # The session appears by polling, without a reload, with an alert and a sound.
        page_.clock.fast_forward(QUEUE_POLL_SECONDS * 1000)
        row = page_.locator("#dispatch-queue tr[data-session]")
        expect(row).to_have_count(1, timeout=15_000)
        expect(page_.locator("#dispatch-alert")).to_contain_text(
            "1 new emergency text session is waiting for a dispatcher."
        )
        expect(page_.locator("html")).to_have_attribute("data-dispatch-alerts", "1")
        expect(page_).to_have_title(re.compile(r"^\(1\) Dispatch console"))
        assert page_.evaluate("window.stillTheSamePage") is True

        row.get_by_role("link").click()
        conversation = page_.locator(".conversation")
        expect(conversation).to_contain_text("someone is breaking in, I can't talk")
        page_.get_by_role("button", name="Claim: I will answer this session").click()
        expect(page_.get_by_role("main")).to_contain_text("You are answering this session.")
        assert_no_axe_violations(page_)

        page_.get_by_role("button", name="Ask for the address").click()
        with live_server.app.app_context():
            asked = texts.render("emergency_ask_address", "en")
        expect(conversation).to_contain_text(asked)
        page_.get_by_role("link", name="Write a reply").click()
        page_.get_by_label("Your reply").fill("Stay hidden and quiet. Police are on the way.")
        page_.get_by_role("button", name="Send", exact=True).click()
        expect(conversation).to_contain_text("Stay hidden and quiet. Police are on the way.")

        # The resident writes again while the dispatcher types: it appears, with a sound,
        # and what is typed stays.
        page_.get_by_role("link", name="Write a reply").click()
        page_.get_by_label("Your reply").fill("Are you hurt?")
        page_.evaluate("window.stillTheSamePage = true")
        assert text_live_server(live_server, resident, "3500 W Lawrence Ave apt 2") == ""
        page_.clock.fast_forward(SESSION_POLL_SECONDS * 1000)
        expect(conversation).to_contain_text("3500 W Lawrence Ave apt 2", timeout=15_000)
        expect(conversation.locator("li.inbound .body")).to_have_count(2)
        expect(page_.locator("html")).to_have_attribute("data-dispatch-alerts", "1")
        expect(page_.get_by_label("Your reply")).to_have_value("Are you hurt?")
        assert page_.evaluate("window.stillTheSamePage") is True
        page_.get_by_role("button", name="Send", exact=True).click()
        expect(conversation).to_contain_text("Are you hurt?")

    sent = texts_to(live_server.app, resident)
    assert [(t.template, t.body) for t in sent] == [
        ("emergency_ask_address", asked),
        ("emergency_reply", "Stay hidden and quiet. Police are on the way."),
        ("emergency_reply", "Are you hurt?"),
    ]


@pytest.mark.browser
def test_without_javascript_the_console_refreshes_itself(
    browser, live_server, make_user, monkeypatch
):
    # The queue's page refreshes itself every 10 seconds (checked above); every second here,
    # so that the test does not wait for it.
    monkeypatch.setattr(console_routes, "QUEUE_REFRESH_SECONDS", 1)
    user = make_user(Role.DISPATCHER)
    base = live_server.url
    with browser.new_context(java_script_enabled=False) as context:
        page_ = context.new_page()
        sign_in_as_dispatcher(page_, base, user)
        page_.get_by_role("button", name="Go on duty").click()
        expect(page_.get_by_role("main")).to_contain_text("You are on duty")
        expect(page_.get_by_role("button", name="Test the alert sound")).to_be_hidden()

        text_live_server(live_server, new_phone(), "911 fire in the hallway")

        # The meta refresh (inside <noscript>) reloads the page.
        expect(page_.locator("#dispatch-queue tr[data-session]")).to_have_count(1, timeout=15_000)
        expect(page_.get_by_role("alert")).to_contain_text(
            "1 new emergency text session is waiting for a dispatcher."
        )
