"""Police console: camera search around an incident (routes.py -> services.py), its map
(map.py) and CSV export (export.py)."""

from flask import Blueprint

bp = Blueprint("police", __name__, url_prefix="/staff/police", template_folder="templates")

from . import routes  # noqa: E402, F401
