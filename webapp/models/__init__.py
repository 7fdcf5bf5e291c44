"""All models, one module per aggregate; imported here so Alembic sees every table."""

from .accounts import CodePurpose, ConsentRecord, Role, User, UserSession, VerificationCode
from .audit import AuditEvent
from .sms import OutboundMessage

__all__ = [
    "AuditEvent",
    "CodePurpose",
    "ConsentRecord",
    "OutboundMessage",
    "Role",
    "User",
    "UserSession",
    "VerificationCode",
]
