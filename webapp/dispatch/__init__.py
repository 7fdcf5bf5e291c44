"""The 911 side: the dispatcher console (emergency text sessions, look-up by phone) and the
look-up API for dispatch systems."""

from flask import Blueprint

bp = Blueprint("dispatch", __name__, url_prefix="/staff/dispatch", template_folder="templates")
api_bp = Blueprint("api", __name__, url_prefix="/api/v1")

from . import api, console_routes, lookup_routes  # noqa: E402, F401
