"""Dispatcher console. (Being built: issue 6.)"""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from ..models import Role
from ..security import role_required
from . import bp


@bp.route("/")
@role_required(Role.DISPATCHER)
def index():
    return render_template("staff/console.html", title=_("Dispatch console"), role=Role.DISPATCHER)
