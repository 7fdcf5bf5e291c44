"""All models, one module per aggregate; imported here so Alembic sees every table."""

from .accounts import CodePurpose, ConsentRecord, Role, User, UserSession, VerificationCode
from .audit import AuditEvent
from .profiles import (
    EmergencyContact,
    HouseholdMember,
    Pet,
    Profile,
    ProfilePhone,
    ProfileReminder,
    Vehicle,
)
from .sms import InboundMessage, OutboundMessage

__all__ = [
    "AuditEvent",
    "CodePurpose",
    "ConsentRecord",
    "EmergencyContact",
    "HouseholdMember",
    "InboundMessage",
    "OutboundMessage",
    "Pet",
    "Profile",
    "ProfilePhone",
    "ProfileReminder",
    "Role",
    "User",
    "UserSession",
    "Vehicle",
    "VerificationCode",
]
