from flask import Blueprint

bp = Blueprint("accounts", __name__, url_prefix="/account", template_folder="templates")

from . import routes  # noqa: E402, F401
