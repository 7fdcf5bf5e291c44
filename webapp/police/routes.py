"""Officers' camera search. (Being built: issue 7.)"""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _

from ..models import Role
from ..security import role_required
from . import bp


@bp.route("/")
@role_required(Role.OFFICER)
def search():
    return render_template("staff/console.html", title=_("Police console"), role=Role.OFFICER)
