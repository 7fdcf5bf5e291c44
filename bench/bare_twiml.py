"""The baseline for ``python -m bench.sms_load``: a bare Flask app answering the SMS webhook.

``POST /sms/inbound`` answers a constant reply as the app answers its texts: one message built
with twilio's ``MessagingResponse``, served as ``text/xml``; no signature check, no form
parsing, no database, no extensions. Served by gunicorn with the same settings as the real app
(``gunicorn bench.bare_twiml:app``), it shows what the server, Flask and the load generator
cost on their own.
"""

from __future__ import annotations

from flask import Flask, Response
from twilio.twiml.messaging_response import MessagingResponse

REPLY = "Safety Registry: we could not read your message. Text HELP for the commands."

app = Flask(__name__)


@app.post("/sms/inbound")
def inbound() -> Response:
    answer = MessagingResponse()
    answer.message(REPLY)
    return Response(str(answer), mimetype="text/xml")


@app.get("/healthz")
def healthz() -> Response:
    return Response("ok", mimetype="text/plain")
