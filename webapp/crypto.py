"""Field encryption at rest: AES-256-GCM (an AEAD) with keys from configuration.

``ENCRYPTION_KEYS`` is a comma-separated list of url-safe base64 keys of 32 bytes: the first
encrypts, all decrypt. Each ciphertext names its key by a short id, so rotation
(``flask --app wsgi keys rotate``) can re-encrypt everything under the newest key while old
rows stay readable. The column's name is bound in as associated data: a ciphertext copied into
another column (or a forged one) fails to decrypt instead of showing the wrong data.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "v1"


class DecryptionError(RuntimeError):
    """A value cannot be decrypted with any configured key (or was tampered with)."""


def generate_key() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def parse_keys(value: str) -> list[bytes]:
    keys = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            key = base64.urlsafe_b64decode(part.encode())
        except ValueError:
            raise ValueError("not url-safe base64") from None
        if len(key) != 32:
            raise ValueError("each key must be 32 bytes (44 base64 characters)")
        keys.append(key)
    return keys


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"key-id:" + key).hexdigest()[:8]


class FieldCipher:
    def __init__(self, keys: list[bytes]):
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self.primary_id = _key_id(keys[0])
        self._primary = AESGCM(keys[0])
        self._by_id = {_key_id(k): AESGCM(k) for k in keys}

    def encrypt(self, plaintext: str, context: str) -> str:
        nonce = os.urandom(12)
        sealed = self._primary.encrypt(nonce, plaintext.encode(), context.encode())
        body = base64.urlsafe_b64encode(nonce + sealed).decode()
        return f"{PREFIX}.{self.primary_id}.{body}"

    def decrypt(self, token: str, context: str) -> str:
        try:
            prefix, key_id, body = token.split(".", 2)
            aead = self._by_id[key_id]
            raw = base64.urlsafe_b64decode(body.encode())
            if prefix != PREFIX:
                raise ValueError(prefix)
            return aead.decrypt(raw[:12], raw[12:], context.encode()).decode()
        except (ValueError, KeyError, InvalidTag):
            raise DecryptionError(f"cannot decrypt a value of {context}") from None

    def is_current(self, token: str) -> bool:
        return token.split(".", 2)[1:2] == [self.primary_id]


class EncryptedText(TypeDecorator):
    """A text column stored encrypted. Empty values are stored as NULL."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str):
        super().__init__()
        self.context = context

    def process_bind_param(self, value, dialect):
        if value is None or value == "":
            return None
        return _cipher().encrypt(str(value), self.context)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return _cipher().decrypt(value, self.context)


def _cipher() -> FieldCipher:
    return current_app.extensions["field_cipher"]


def init_crypto(app) -> None:
    keys_value = app.config["ENCRYPTION_KEYS"] or _instance_keys(app.instance_path)
    app.extensions["field_cipher"] = FieldCipher(parse_keys(keys_value))


def _instance_keys(instance_path: str) -> str:
    """A development key kept in the instance folder (production must configure keys)."""
    path = Path(instance_path) / "encryption_keys"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    path.write_text(key)
    path.chmod(0o600)
    return key


def rotate_keys(batch_size: int = 500) -> int:
    """Re-encrypt every encrypted value under the first key; returns how many were written.

    Rows are read (decrypting with whichever key sealed them) and written back in batches,
    each batch its own transaction, so a long rotation can be stopped and run again.
    """
    from sqlalchemy import select
    from sqlalchemy.orm.attributes import flag_modified

    from .extensions import db

    changed = 0
    for mapper in db.Model.registry.mappers:
        keys = [a.key for a in mapper.column_attrs if isinstance(a.columns[0].type, EncryptedText)]
        if not keys:
            continue
        model, last_id = mapper.class_, 0
        while rows := db.session.scalars(
            select(model).where(model.id > last_id).order_by(model.id).limit(batch_size)
        ).all():
            for row in rows:
                for key in keys:
                    if getattr(row, key) is not None:
                        flag_modified(row, key)
                        changed += 1
            last_id = rows[-1].id
            db.session.commit()
    return changed
