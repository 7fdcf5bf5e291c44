"""Response headers, safe redirects and the role check every staff page uses."""

from __future__ import annotations

import secrets
from functools import wraps
from urllib.parse import urlsplit

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_login import current_user

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


def init_security(app: Flask) -> None:
    @app.before_request
    def assign_request_id() -> None:
        g.request_id = secrets.token_hex(8)  # ties log lines and audit rows to a request

    @app.after_request
    def set_security_headers(response):
        headers = response.headers
        headers["X-Content-Type-Options"] = "nosniff"
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
        request_id = g.get("request_id")
        if request_id is not None:
            headers["X-Request-ID"] = request_id
        headers.setdefault("Content-Security-Policy", CSP)
        headers["Referrer-Policy"] = "same-origin"
        headers["X-Frame-Options"] = "DENY"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
        # Pages of signed-in people must not sit in shared caches or the back-forward cache.
        # (The session says whether someone is signed in, without loading their account.)
        if session.get("_user_id") is not None:
            headers["Cache-Control"] = "no-store"
        return response


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
