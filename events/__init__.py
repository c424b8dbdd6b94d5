"""The event catalogue: the public contract of every stored event."""

from events.applications import (
    AgencyAdmitted,
    AgencyApplied,
    AgencyRejected,
    AgencyWaitlisted,
    ApplicationRefused,
    ApplicationWithdrawn,
    ParticipantNominated,
    ParticipantRole,
    Source,
)
from events.base import DomainEvent, SealedPersonalData
from events.catalogue import EVENT_ADAPTER, EVENT_TYPES, Event, EventMetadata
from events.pairs import PairDissolved, PairFormed, PlanRevised, PlanSubmitted, PresentationRecorded
from events.personal_data import PersonalDataErased
from events.round import (
    ApplicationsClosed,
    ApplicationsOpened,
    PlanDeadlinePassed,
    PlanReminderIssued,
    RoundCancelled,
    RoundClosed,
    RoundRescheduled,
    RoundScheduled,
    RoundStarted,
)
from events.upcasting import (
    UnknownEventTypeError,
    UnsupportedSchemaVersionError,
    current_version,
    event_from_json,
    event_to_json,
    upcast,
)

__all__ = [
    "EVENT_ADAPTER",
    "EVENT_TYPES",
    "AgencyAdmitted",
    "AgencyApplied",
    "AgencyRejected",
    "AgencyWaitlisted",
    "ApplicationRefused",
    "ApplicationWithdrawn",
    "ApplicationsClosed",
    "ApplicationsOpened",
    "DomainEvent",
    "Event",
    "EventMetadata",
    "PairDissolved",
    "PairFormed",
    "ParticipantNominated",
    "ParticipantRole",
    "PersonalDataErased",
    "PlanDeadlinePassed",
    "PlanReminderIssued",
    "PlanRevised",
    "PlanSubmitted",
    "PresentationRecorded",
    "RoundCancelled",
    "RoundClosed",
    "RoundRescheduled",
    "RoundScheduled",
    "RoundStarted",
    "SealedPersonalData",
    "Source",
    "UnknownEventTypeError",
    "UnsupportedSchemaVersionError",
    "current_version",
    "event_from_json",
    "event_to_json",
    "upcast",
]
