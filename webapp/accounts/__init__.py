from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account", template_folder="templates")

from . import routes, second_factor_routes  # noqa: E402, F401
