"""The dispatcher console: the queue of emergency text sessions and the dispatcher's duty
(``index``, polled as JSON by ``static/js/dispatch.js``), and a session's page with its
conversation, the texter's profile and the dispatcher's actions.

The pages work without JavaScript: the queue refreshes itself, and a session's page too,
except while the dispatcher writes a reply (``?compose=1``), so nothing typed is lost. With
JavaScript, both poll JSON instead (the meta refreshes are inside <noscript>) and redraw their
lists from the same templates, while typing too. Every action is a POST that redirects back.
"""

from __future__ import annotations

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..i18n import BY_CODE
from ..models import Role
from ..security import role_required
from ..views import attach_error
from . import bp, console, relay
from .forms import (
    DELIVERY_LABELS,
    OUTCOME_LABELS,
    QUICK_REPLY_LABELS,
    CloseForm,
    DutyForm,
    ReplyForm,
    TransferForm,
)

QUEUE_REFRESH_SECONDS = 10  # the queue without JavaScript
QUEUE_POLL_SECONDS = 5  # the queue with JavaScript
SESSION_REFRESH_SECONDS = 15  # a session's page without JavaScript
SESSION_POLL_SECONDS = 10  # its conversation with JavaScript


def waiting(seconds: int) -> str:
    """``4:05``, or ``1:04:05`` past an hour: digits read the same in every language."""
    minutes, seconds = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def colleague(who: console.Colleague | None) -> str:
    if who is None:
        return ""
    if who.id == current_user.id:
        return _("you")
    return _("dispatcher %(id)d (phone ending %(digits)s)", id=who.id, digits=who.phone_end)


def new_sessions_alert(count: int) -> str:
    if not count:
        return ""
    return ngettext(
        "%(num)d new emergency text session is waiting for a dispatcher.",
        "%(num)d new emergency text sessions are waiting for a dispatcher.",
        count,
    )


@bp.context_processor
def console_helpers() -> dict:
    return {
        "waiting": waiting,
        "colleague": colleague,
        "delivery_labels": DELIVERY_LABELS,
        "outcome_labels": OUTCOME_LABELS,
        "quick_reply_labels": QUICK_REPLY_LABELS,
    }


# --- the queue -------------------------------------------------------------------------------


@bp.route("/")
@role_required(Role.DISPATCHER)
def index():
    queue = console.queue(current_user)
    return render_template(
        "dispatch/index.html",
        queue=queue,
        alert=new_sessions_alert(queue.new),
        duty_form=DutyForm(formdata=None),
        refresh=QUEUE_REFRESH_SECONDS,
        poll=QUEUE_POLL_SECONDS,
    )


@bp.route("/sessions.json")
@role_required(Role.DISPATCHER)
def sessions_json():
    """The queue for the console's script: the sessions (no message words, no numbers) and
    the page's two fragments (numbers included), drawn by the same templates as the page."""
    queue = console.queue(current_user)
    alert = new_sessions_alert(queue.new)
    return jsonify(
        on_duty=queue.on_duty,
        dispatchers_on_duty=queue.dispatchers_on_duty,
        new=queue.new,
        alert=alert,
        sessions=[entry.to_dict() for entry in queue.entries],
        alert_html=render_template("dispatch/_queue_alert.html", alert=alert),
        html=render_template("dispatch/_queue.html", queue=queue),
    )


@bp.route("/duty", methods=["POST"])
@role_required(Role.DISPATCHER)
def duty():
    form = DutyForm()
    on = form.on.data == "1"
    try:
        relay.set_duty(current_user, on)
    except relay.RelayError as error:
        flash(str(error.message), "error")
    else:
        flash(_("You are on duty.") if on else _("You are off duty."), "success")
    return redirect(url_for("dispatch.index"))


# --- a session -------------------------------------------------------------------------------


@bp.route("/sessions/<int:session_id>")
@role_required(Role.DISPATCHER)
def show_session(session_id: int):
    compose = request.args.get("compose") == "1"
    return _session_page(session_id, compose=compose, refresh=not compose)


def _session_page(session_id: int, *, compose=False, refresh=False, reply=None, transfer=None,
                  close=None):  # fmt: skip
    try:
        page = console.session_page(current_user, session_id)
    except relay.NotFound:
        abort(404)
    transfer = transfer or TransferForm(formdata=None)
    transfer.to_user_id.choices = [SelectChoice("", _("Choose a dispatcher"))] + [
        SelectChoice(str(who.id), colleague(who)) for who in page.transfer_to
    ]
    forms = {
        "reply_form": reply or ReplyForm(formdata=None),
        "transfer_form": transfer,
        "close_form": close or CloseForm(formdata=None),
    }
    texter_language = BY_CODE.get(page.session.locale)
    return render_template(
        "dispatch/session.html",
        page=page,
        session=page.session,
        previews=console.quick_reply_previews(page.session.locale),
        texter_language=texter_language,
        compose=compose or reply is not None,
        refresh=SESSION_REFRESH_SECONDS if refresh else None,
        has_errors=any(f.errors for f in forms.values()),
        max_reply=relay.MAX_REPLY_LENGTH,
        poll=SESSION_POLL_SECONDS,
        **forms,
    )


@bp.route("/sessions/<int:session_id>.json")
@role_required(Role.DISPATCHER)
def session_json(session_id: int):
    """A session's conversation for its page's script (reading it is audited), and its state:
    the script reloads the page when that changes and nothing is being typed."""
    try:
        conversation = console.conversation(current_user, session_id)
    except relay.NotFound:
        abort(404)
    return jsonify(
        state=conversation.state,
        inbound=conversation.inbound,
        html=render_template("dispatch/_conversation.html", entries=conversation.entries),
    )


def _back(session_id: int):
    return redirect(url_for("dispatch.show_session", session_id=session_id))


def _act(session_id: int, action, done: str):
    """Run a console action on a session, say how it went, and go back to the session."""
    try:
        action()
    except relay.NotFound:
        abort(404)
    except relay.RelayError as error:
        flash(str(error.message), "error")
    else:
        flash(done, "success")
    return _back(session_id)


@bp.route("/sessions/<int:session_id>/claim", methods=["POST"])
@role_required(Role.DISPATCHER)
def claim(session_id: int):
    return _act(
        session_id,
        lambda: relay.claim(current_user, session_id),
        _("You are answering this session. Only you can reply to it now."),
    )


@bp.route("/sessions/<int:session_id>/quick-reply", methods=["POST"])
@role_required(Role.DISPATCHER)
def quick_reply(session_id: int):
    return _act(
        session_id,
        lambda: relay.quick_reply(current_user, session_id, request.form.get("key", "")),
        _("Your text is on its way to the texter."),
    )


@bp.route("/sessions/<int:session_id>/reply", methods=["POST"])
@role_required(Role.DISPATCHER)
def reply(session_id: int):
    form = ReplyForm()
    if form.validate_on_submit():
        try:
            relay.reply(current_user, session_id, form.body.data)
        except relay.NotFound:
            abort(404)
        except relay.RelayError as error:
            if error.field != "body":
                flash(str(error.message), "error")
                return _back(session_id)
            attach_error(form, error)
        else:
            flash(_("Your text is on its way to the texter."), "success")
            return _back(session_id)
    return _session_page(session_id, reply=form)  # what was typed comes back as typed


@bp.route("/sessions/<int:session_id>/transfer", methods=["POST"])
@role_required(Role.DISPATCHER)
def transfer(session_id: int):
    form = TransferForm()
    raw = form.to_user_id.data or ""
    try:
        relay.transfer(current_user, session_id, int(raw) if raw.isdigit() else 0)
    except relay.NotFound:
        abort(404)
    except relay.DispatcherUnavailable as error:
        attach_error(form, error)
        return _session_page(session_id, transfer=form)
    except relay.RelayError as error:
        flash(str(error.message), "error")
        return _back(session_id)
    flash(_("Session %(id)d is transferred.", id=session_id), "success")
    return redirect(url_for("dispatch.index"))


@bp.route("/sessions/<int:session_id>/close", methods=["POST"])
@role_required(Role.DISPATCHER)
def close(session_id: int):
    form = CloseForm()
    try:
        relay.close(current_user, session_id, form.outcome.data or "")
    except relay.NotFound:
        abort(404)
    except relay.UnknownOutcome as error:
        attach_error(form, error)
        return _session_page(session_id, close=form)
    except relay.RelayError as error:
        flash(str(error.message), "error")
        return _back(session_id)
    flash(_("Session %(id)d is closed.", id=session_id), "success")
    return redirect(url_for("dispatch.index"))
