from flask import Blueprint

bp = Blueprint("profiles", __name__, url_prefix="/profile", template_folder="templates")
data_bp = Blueprint("my_data", __name__, url_prefix="/account/data", template_folder="templates")

from . import data_routes, routes  # noqa: E402, F401
