"""All models, one module per aggregate; imported here so Alembic sees every table."""

from .accounts import CodePurpose, ConsentRecord, Role, User, UserSession, VerificationCode
from .audit import AuditEvent
from .cameras import (
    CameraEvent,
    CameraRegistration,
    CameraReminder,
    CameraSystem,
    RegistrationStatus,
)
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
    "CameraEvent",
    "CameraRegistration",
    "CameraReminder",
    "CameraSystem",
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
    "RegistrationStatus",
    "Role",
    "User",
    "UserSession",
    "Vehicle",
    "VerificationCode",
]
