"""All ORM models; importing this package registers every table on Base.metadata."""

from vibue.models.appointments import CHANNELS, HOLDING, STATUSES, TRANSITIONS, Appointment
from vibue.models.audit import AuditEntry
from vibue.models.base import Base
from vibue.models.calls import (
    PARTICIPANT_ROLES,
    PARTICIPANT_STATES,
    CallParticipant,
    IdentityCode,
    InterpreterInvitation,
    SignalingProcess,
)
from vibue.models.catalog import Closure, Concern, Location, OpeningHours, ServiceUnit, unit_concerns
from vibue.models.documents import IssuedDocument
from vibue.models.mail import QueuedMail
from vibue.models.staff import ROLES, Capacity, Staff, StaffSession

__all__ = [
    "CHANNELS",
    "HOLDING",
    "PARTICIPANT_ROLES",
    "PARTICIPANT_STATES",
    "ROLES",
    "STATUSES",
    "TRANSITIONS",
    "Appointment",
    "AuditEntry",
    "Base",
    "CallParticipant",
    "Capacity",
    "Closure",
    "Concern",
    "IdentityCode",
    "InterpreterInvitation",
    "IssuedDocument",
    "Location",
    "OpeningHours",
    "QueuedMail",
    "ServiceUnit",
    "SignalingProcess",
    "Staff",
    "StaffSession",
    "unit_concerns",
]
