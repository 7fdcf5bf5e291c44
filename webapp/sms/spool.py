"""A durable local spool for texts that arrive while the database is down.

Each message is one JSON file, written to a temporary name, flushed to disk and renamed, so a
crash never leaves half a file. ``flask --app wsgi sms import-spool`` stores and acts on them
once the database is back (the ``MessageSid`` makes that exactly once) and only then deletes
the file.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from flask import current_app

from ..models.types import utcnow

log = logging.getLogger(__name__)


def spool_dir() -> Path:
    path = Path(
        current_app.config["SMS_SPOOL_DIR"] or Path(current_app.instance_path) / "sms-spool"
    )
    path.mkdir(parents=True, exist_ok=True)
    return path


def write(form: dict[str, str]) -> Path:
    sid = "".join(ch for ch in form.get("MessageSid", "") if ch.isalnum())[:64] or "unknown"
    record = {"form": form, "spooled_at": utcnow().isoformat()}
    directory = spool_dir()
    final = directory / f"{sid}.json"
    temporary = directory / f".{sid}.json.tmp"
    with temporary.open("w", encoding="utf-8") as fh:
        json.dump(record, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, final)
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
    log.warning("database unavailable: text %s spooled", sid)
    return final


def import_all() -> int:
    """Store and act on every spooled text; returns how many were new to the database."""
    from sqlalchemy import select

    from ..extensions import db
    from ..models import InboundMessage
    from .commands import parse
    from .inbound import dispatch, reply_later

    imported = 0
    for path in sorted(spool_dir().glob("*.json")):
        form = json.loads(path.read_text(encoding="utf-8"))["form"]
        sid = form.get("MessageSid", "")
        known = db.session.scalar(
            select(InboundMessage.id).where(InboundMessage.message_sid == sid)
        )
        if known is None:
            message = InboundMessage(
                message_sid=sid,
                from_number=form.get("From", "")[:32],
                to_number=form.get("To", "")[:32] or None,
                body=form.get("Body", ""),
                source="spool",
            )
            db.session.add(message)
            db.session.commit()
            command = parse(form.get("Body", ""))
            reply = dispatch(message.from_number, command, message_id=message.id,
                             body=form.get("Body", ""))  # fmt: skip
            message = db.session.get(InboundMessage, message.id)
            message.command = reply.command or command.name
            message.processed_at = utcnow()
            # The sender was told we could not process it; the real answer goes as a text.
            reply_later(message.from_number, reply)
            message.reply = reply.render() or None
            db.session.commit()
            imported += 1
        path.unlink()
    return imported
