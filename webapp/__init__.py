"""Safety Registry: the application factory."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, session
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import Settings
from .sms.texts import check_program_name

TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent / "translations"


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with ``config`` overriding any setting."""
    app = Flask(__name__, instance_relative_config=True)
    overrides = dict(config or {})
    names = set(Settings.__dataclass_fields__)
    env_values = {k: v for k, v in os.environ.items() if k in names}
    settings = Settings.build({**env_values, **{k: v for k, v in overrides.items() if k in names}})
    app.config.update(settings.flask_config(app.instance_path))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(TRANSLATIONS_DIR)
    app.config.update({k: v for k, v in overrides.items() if k not in names})

    configure_logging(app)
    if app.config["TRUSTED_PROXIES"]:
        n = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n)

    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_template_context(app)
    check_program_name(app)
    return app


LOG_FORMAT = "[%(asctime)s] %(levelname)s %(name)s: %(message)s"


def configure_logging(app: Flask) -> None:
    """The ``webapp`` loggers at ``LOG_LEVEL``, written to stderr (gunicorn's and the
    container's log) with their time and level, unless the process configured logging itself
    (then their records go where it says). Without a handler, Python would drop every record
    under WARNING and print the rest bare, with neither."""
    level = getattr(logging, app.config["LOG_LEVEL"].upper(), logging.INFO)
    logger = logging.getLogger("webapp")
    logger.setLevel(level)
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(LOG_FORMAT))
        logger.addHandler(handler)


def register_extensions(app: Flask) -> None:
    from flask_babel import lazy_gettext as _l

    from . import models  # noqa: F401  (every table known to the metadata)
    from .accounts.services import load_session_user
    from .crypto import init_crypto
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .i18n import get_locale
    from .mail import init_mail
    from .security import init_security
    from .sms.backends import init_sms

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent.parent / "migrations"))
    babel.init_app(app, locale_selector=get_locale)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.sign_in"
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str  # renders the lazy message in the request's locale
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # our server-side sessions do better

    @login_manager.user_loader
    def load_user(user_id: str):
        try:
            return load_session_user(user_id, session.get("sid"))
        except SQLAlchemyError:
            # Database down: treat the visitor as signed out (grants nothing) so the error
            # page can still render, translated, instead of failing a second time.
            db.session.rollback()
            logging.getLogger(__name__).warning("session lookup failed: database unavailable")
            return None

    init_security(app)
    init_sms(app)
    init_mail(app)
    init_crypto(app)


def register_blueprints(app: Flask) -> None:
    from .accounts import bp as accounts_bp
    from .admin import bp as admin_bp
    from .cameras import bp as cameras_bp
    from .cameras.moderation import bp as moderation_bp
    from .dispatch import api_bp
    from .dispatch import bp as dispatch_bp
    from .footage import bp as footage_bp
    from .main import bp as main_bp
    from .police import bp as police_bp
    from .profiles import bp as profiles_bp
    from .profiles import data_bp
    from .sms_inbound.routes import bp as sms_bp
    from .staff import bp as staff_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(staff_bp)
    app.register_blueprint(profiles_bp)
    app.register_blueprint(data_bp)
    app.register_blueprint(sms_bp)
    app.register_blueprint(cameras_bp)
    app.register_blueprint(moderation_bp)
    app.register_blueprint(police_bp)
    app.register_blueprint(footage_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(dispatch_bp)
    app.register_blueprint(api_bp)
    if app.config["APP_ENV"] != "production":
        from .sms_inbound.dev import bp as dev_bp

        app.register_blueprint(dev_bp)


def register_errorhandlers(app: Flask) -> None:
    from .errors import init_errors

    init_errors(app)


def register_commands(app: Flask) -> None:
    from .cli import init_cli

    init_cli(app)


def register_template_context(app: Flask) -> None:
    from flask import request, url_for
    from flask_babel import format_date, format_datetime
    from markupsafe import Markup

    from .i18n import LANGUAGES, current_language

    def lang_url(code: str) -> str:
        args = {k: v for k, v in request.args.items() if k != "lang"}
        endpoint = request.endpoint or "main.index"
        try:
            return url_for(endpoint, **(request.view_args or {}), **args, lang=code)
        except Exception:  # an error page for a URL that matches no route
            return url_for("main.index", lang=code)

    @app.template_filter("ltr")
    def ltr(value) -> Markup:
        """Keep a phone number or code left-to-right inside right-to-left text."""
        return Markup('<bdi dir="ltr">%s</bdi>') % value

    @app.context_processor
    def inject_globals():
        return {
            "languages": LANGUAGES,
            "current_language": current_language(),
            "lang_url": lang_url,
            "program_name": app.config["PROGRAM_NAME"],
            "show_dev_tools": app.config["APP_ENV"] != "production",
            "format_date": format_date,  # in the request's locale and time zone
            "format_datetime": format_datetime,
        }
