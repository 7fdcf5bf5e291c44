"""All models, one module per aggregate; imported here so Alembic sees every table."""

from .accounts import (
    ApiToken,
    CodePurpose,
    ConsentRecord,
    RecoveryCode,
    Role,
    User,
    UserSession,
    VerificationCode,
)
from .audit import AuditEvent
from .cameras import (
    CameraEvent,
    CameraRegistration,
    CameraReminder,
    CameraSystem,
    RegistrationStatus,
)
from .emergency import EmergencyMessage, EmergencySession, ProfileLookup, SessionStatus
from .footage import FootageRecipient, FootageRequest, RecipientState
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
    "ApiToken",
    "AuditEvent",
    "CameraEvent",
    "CameraRegistration",
    "CameraReminder",
    "CameraSystem",
    "CodePurpose",
    "ConsentRecord",
    "EmergencyContact",
    "EmergencyMessage",
    "EmergencySession",
    "FootageRecipient",
    "FootageRequest",
    "HouseholdMember",
    "InboundMessage",
    "OutboundMessage",
    "Pet",
    "Profile",
    "ProfileLookup",
    "ProfilePhone",
    "ProfileReminder",
    "RecipientState",
    "RecoveryCode",
    "RegistrationStatus",
    "Role",
    "SessionStatus",
    "User",
    "UserSession",
    "Vehicle",
    "VerificationCode",
]
