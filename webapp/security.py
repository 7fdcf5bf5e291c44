"""Response headers, safe redirects and the role check every staff page uses."""

from __future__ import annotations

import os
import random
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, request, session, url_for
from flask.sessions import SecureCookieSessionInterface
from flask_login import current_user

from .extensions import MACHINE_BLUEPRINTS
from .models import Role

CSP = "; ".join(
    [
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed cookie session, without its work for a request that has no session and
    makes none: Flask builds a signing serializer to open every session and reads seven
    settings to save it, which is a few percent of an SMS webhook (Twilio sends no cookie)."""

    def open_session(self, app, request):
        if app.secret_key and "HTTP_COOKIE" not in request.environ:  # none to parse
            return self.session_class()
        if app.secret_key and not request.cookies.get(self.get_cookie_name(app)):
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response) -> None:
        if not session and not session.modified:  # Flask's own early return, made first
            if session.accessed:
                vary_cookie(response)
            return
        super().save_session(app, session, response)


def vary_cookie(response) -> None:
    """``Vary: Cookie``, as Flask adds it (``response.vary.add``), without parsing and
    writing back a header that is not there yet (the common case, every SMS webhook)."""
    if "Vary" in response.headers:
        response.vary.add("Cookie")
    else:
        response.headers["Vary"] = "Cookie"


_ids = random.Random()  # noqa: S311  (ids tie logs together; they guard nothing)
os.register_at_fork(after_in_child=_ids.seed)  # each worker gunicorn forks: its own ids


def init_security(app: Flask) -> None:
    app.session_interface = CookieSessions()

    @app.before_request
    def assign_request_id() -> None:
        # It ties log lines and audit rows to a request; it guards nothing, so it need not be
        # unguessable, and is not read from the kernel: ``secrets`` asks it on every request,
        # which lets the worker's other threads take the interpreter in the meantime (two
        # thread switches a request under load).
        # (These hooks run on every request: they reach ``g`` and the request through their
        # proxies once each, as each use of a proxy costs about a microsecond.)
        g._get_current_object().request_id = f"{_ids.getrandbits(64):016x}"

    @app.after_request
    def set_security_headers(response):
        req = request._get_current_object()
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        if req.is_secure:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        request_id = g.get("request_id")
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        # An answer for a machine (TwiML), unless it is a page (an error page), gets only the
        # headers above, which matter to any client, not those that guide a browser showing a
        # page (a policy for its scripts and frames, where it may send its referrer, whether
        # it may be cached once someone signs in). Setting those, and reading the session to
        # decide on caching, was about 4 % of an SMS webhook's cost.
        if req.blueprint in MACHINE_BLUEPRINTS and not _is_html(response):
            return response
        headers.setdefault("Content-Security-Policy", CSP)
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
        # Pages of signed-in people must not sit in shared caches or the back-forward cache.
        # (The session says whether someone is signed in, without loading their account.)
        if session.get("_user_id") is not None:
            headers["Cache-Control"] = "no-store"
        return response


def _is_html(response) -> bool:
    return (response.content_type or "").startswith("text/html")


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path on this site, else None (no open redirects)."""
    if not target or len(target) > 512:
        return None
    if any(ord(ch) < 32 for ch in target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def second_factor_url(user, next_url: str | None = None) -> str:
    """Where a staff member goes to pass the second factor: setting up the app, or a code."""
    endpoint = "accounts.second_factor" if user.totp_enabled_at else "accounts.second_factor_setup"
    return url_for(endpoint, next=safe_next(next_url))


def second_factor_required(view):
    """Signed in and, for staff, past the second factor in this session.

    Anonymous visitors are sent to sign in; staff who have not entered a code from their
    authenticator app (or set one up) in this session are sent to do so, and come back here.
    """

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            from .extensions import login_manager

            return login_manager.unauthorized()
        if current_user.is_staff:
            from .accounts.second_factor import session_passed

            if not session_passed(current_user, session.get("sid")):
                here = request.full_path.rstrip("?") if request.method == "GET" else None
                return redirect(second_factor_url(current_user, here))
        return view(*args, **kwargs)

    return wrapped


def role_required(*roles: Role):
    """Allow only signed-in users holding one of ``roles``, staff past the second factor.

    Anonymous visitors are sent to sign in, staff without the second factor to it; everyone
    else without the role gets 403.
    """
    allowed = {Role(r) for r in roles}

    def decorator(view):
        @wraps(view)
        @second_factor_required
        def wrapped(*args, **kwargs):
            if current_user.role_enum not in allowed:
                abort(403)
            return view(*args, **kwargs)

        return wrapped

    return decorator
