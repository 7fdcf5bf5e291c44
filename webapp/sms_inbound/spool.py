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
from datetime import datetime
from pathlib import Path

from flask import current_app
from sqlalchemy.exc import OperationalError

from ..errors import log_failure
from ..extensions import db
from ..models.types import utcnow
from .handler import handle

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
    return final


def import_all() -> int:
    """Store and act on every spooled text, as the webhook would have (``handler.handle``),
    but with the reply sent as a text. Returns how many were new to the database.

    A file is deleted only once its text is committed (or was already there). A text that
    fails is logged and kept for the next import without holding up the others; when the
    database itself is still away, the import stops there (the worker tries again soon).
    Several workers may import at once: the MessageSid makes each text count once.
    """
    imported = 0
    for path in sorted(spool_dir().glob("*.json")):
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:  # another worker imported it meanwhile
            continue
        form, spooled_at = record["form"], record.get("spooled_at")
        received_at = datetime.fromisoformat(spooled_at) if spooled_at else None
        try:
            imported += handle(form, source="spool", received_at=received_at).new
        except OperationalError:
            db.session.rollback()
            raise  # the database is still away: nothing else would get in either
        except Exception as error:  # never the words or the number in the log
            db.session.rollback()
            log_failure(log, f"spooled text {path.stem} could not be imported; kept", error)
            continue
        path.unlink(missing_ok=True)
    return imported
