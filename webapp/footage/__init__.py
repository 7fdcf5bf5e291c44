"""Footage requests: officers ask chosen owners (officer_routes.py); owners answer by text or on
the web (owner_routes.py); services.py does the work for all three, tracking.py shows it."""

from flask import Blueprint

bp = Blueprint("footage", __name__, template_folder="templates")

from . import officer_routes, owner_routes  # noqa: E402, F401
