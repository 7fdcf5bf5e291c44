"""Administration console: staff accounts, roles, API tokens, the audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/staff/admin", template_folder="templates")

from . import routes  # noqa: E402, F401
