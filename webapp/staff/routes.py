"""Staff consoles, one per role. Each page is behind ``role_required``."""

from __future__ import annotations

from flask import abort, redirect, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..models import Role
from ..security import second_factor_required
from . import bp

CONSOLES = {
    Role.MODERATOR: ("moderation.queue", _l("Moderation console")),
    Role.OFFICER: ("police.search", _l("Police console")),
    Role.DISPATCHER: ("dispatch.index", _l("Dispatch console")),
    Role.ADMIN: ("admin.index", _l("Administration console")),
}


@bp.route("/")
@second_factor_required
def index():
    """Send staff to their own console; residents have none."""
    console = CONSOLES.get(current_user.role_enum)
    if console is None:
        abort(403)
    return redirect(url_for(console[0]))
