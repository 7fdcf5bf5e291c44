"""The baseline for ``python -m bench.sms_load``: a bare Flask app answering the SMS webhook.

``POST /sms/inbound`` returns a constant TwiML reply: no signature check, no database, no
extensions. Served by gunicorn with the same settings as the real app
(``gunicorn bench.bare_twiml:app``), it shows what the server, Flask and the load generator
cost on their own.
"""

from __future__ import annotations

from flask import Flask, Response

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'

app = Flask(__name__)


@app.post("/sms/inbound")
def inbound() -> Response:
    return Response(TWIML, mimetype="application/xml")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
