"""The look-up API for dispatch systems (CAD): ``GET /api/v1/lookup?phone=...&incident=...``
with ``Authorization: Bearer <token>``. The contract is ``webapp/static/openapi.yaml``.

A token belongs to one agency's system (created by an admin, stored hashed); its agency is
what the resident sees on their "who has seen my profile" page. Each request is rate-limited
per token (requests without a valid token per client address), audited like the console's
look-ups, and answered with ``Cache-Control: no-store``.

A number with no profile shown to 911 is a successful look-up too: 200 with
``"found": false`` (404 would mean the URL is wrong). Bad input is 400, a missing, unknown or
revoked token 401 with a ``WWW-Authenticate: Bearer`` challenge (RFC 6750), too many requests
429 with ``Retry-After``.
"""

from __future__ import annotations

from typing import Any

from flask import g, jsonify, request
from flask_limiter.util import get_remote_address

from ..admin.tokens import authenticate_token
from ..extensions import csrf, limiter
from ..models import ApiToken, ProfileLookup
from . import api_bp
from . import lookup as services

# One dispatch centre's system: a look-up per incoming call, with room for bursts.
TOKEN_LIMIT = "120 per minute;3000 per hour"  # noqa: S105 (not a secret)
# Without a valid token: enough for a misconfigured client to notice, too few to guess tokens.
ANONYMOUS_LIMIT = "20 per minute"
REALM = 'Bearer realm="safety-registry"'

csrf.exempt(api_bp)  # no cookies are used: the bearer token authenticates each request


def current_token() -> ApiToken | None:
    """The live token this request presents, authenticated once per request."""
    if "api_token" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, raw = header.partition(" ")
        g.api_token = authenticate_token(raw.strip()) if scheme.lower() == "bearer" else None
    return g.api_token


def _rate_key() -> str:
    token = current_token()
    return f"api-token:{token.id}" if token else f"api-anonymous:{get_remote_address()}"


def _rate_limit() -> str:
    return TOKEN_LIMIT if current_token() else ANONYMOUS_LIMIT


def _answer(body: dict[str, Any], status: int = 200, **headers):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    response.headers.update(headers)
    return response


def _lookup_json(row: ProfileLookup) -> dict[str, Any]:
    return {
        "id": row.id,
        "phone": row.phone,
        "incident": row.incident,
        "agency": row.agency,
        "created_at": row.created_at.isoformat(),
        "expires_at": row.expires_at.isoformat(),
    }


@api_bp.get("/lookup")
@limiter.limit(_rate_limit, key_func=_rate_key)
def lookup():
    token = current_token()
    if token is None:
        presented = "Authorization" in request.headers
        challenge = REALM + (', error="invalid_token"' if presented else "")
        return _answer(
            {"error": "invalid_token" if presented else "missing_token",
             "message": "A valid bearer token is needed."},
            401, **{"WWW-Authenticate": challenge},
        )  # fmt: skip
    try:
        shown = services.lookup_and_show(
            request.args.get("phone", ""), request.args.get("incident", ""),
            token=token, channel="api",
        )  # fmt: skip
    except services.LookupProblem as problem:
        return _answer({"error": problem.code, "message": str(problem.message)}, 400)
    body: dict[str, Any] = {
        "found": shown.profile is not None,
        "lookup": _lookup_json(shown.lookup),
        "profile": shown.profile.to_dict() if shown.profile else None,
    }
    return _answer(body)
