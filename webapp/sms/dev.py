"""The development outbox: every text the site "sent", readable without a phone.

Registered only outside production (see ``create_app``).
"""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import select

from ..extensions import db
from ..models import OutboundMessage

bp = Blueprint("dev", __name__, url_prefix="/dev", template_folder="templates")


@bp.route("/outbox")
def outbox():
    messages = db.session.scalars(
        select(OutboundMessage).order_by(OutboundMessage.id.desc()).limit(100)
    ).all()
    return render_template("dev/outbox.html", messages=messages)
