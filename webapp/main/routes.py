"""Public pages and the health check."""

from __future__ import annotations

from flask import jsonify, render_template
from sqlalchemy import text

from ..accounts.services import TERMS_VERSION
from ..extensions import db, limiter
from . import bp


@bp.route("/")
def index():
    return render_template("main/index.html")


@bp.route("/terms")
def terms():
    return render_template("main/terms.html", version=TERMS_VERSION)


@bp.route("/privacy")
def privacy():
    return render_template("main/privacy.html", version=TERMS_VERSION)


@bp.route("/healthz")
@limiter.exempt
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "ok"
    except Exception:  # any failure means "not usable"; details stay in the server log
        db.session.rollback()
        database = "unavailable"
    status = 200 if database == "ok" else 503
    body = {"status": "ok" if status == 200 else "degraded", "database": database}
    return jsonify(body), status
