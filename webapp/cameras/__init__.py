from flask import Blueprint

bp = Blueprint("cameras", __name__, url_prefix="/cameras", template_folder="templates")

from . import routes  # noqa: E402, F401
