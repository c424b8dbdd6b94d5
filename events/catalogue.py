"""The catalogue: every event type in one discriminated union, and the envelope around it."""

from __future__ import annotations

from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

from events.applications import (
    AgencyAdmitted,
    AgencyApplied,
    AgencyRejected,
    AgencyWaitlisted,
    ApplicationRefused,
    ApplicationWithdrawn,
    ParticipantNominated,
)
from events.base import DomainEvent, UtcDateTime
from events.forms import DeliveryHeld, FormMapped, HeldDeliveryTakenUp
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

Event = Annotated[
    RoundScheduled
    | RoundRescheduled
    | RoundCancelled
    | ApplicationsOpened
    | AgencyApplied
    | ApplicationRefused
    | ApplicationWithdrawn
    | ApplicationsClosed
    | AgencyAdmitted
    | AgencyRejected
    | AgencyWaitlisted
    | ParticipantNominated
    | PairFormed
    | PairDissolved
    | RoundStarted
    | PlanSubmitted
    | PlanRevised
    | PlanReminderIssued
    | PlanDeadlinePassed
    | PresentationRecorded
    | RoundClosed
    | PersonalDataErased
    | FormMapped
    | DeliveryHeld
    | HeldDeliveryTakenUp,
    Field(discriminator="type"),
]
"""Any event in the current (newest) version of its schema."""

EVENT_ADAPTER: Final[TypeAdapter[Event]] = TypeAdapter(Event)

EVENT_TYPES: Final[dict[str, type[DomainEvent]]] = {
    cls.model_fields["type"].default: cls
    for cls in (
        RoundScheduled,
        RoundRescheduled,
        RoundCancelled,
        ApplicationsOpened,
        AgencyApplied,
        ApplicationRefused,
        ApplicationWithdrawn,
        ApplicationsClosed,
        AgencyAdmitted,
        AgencyRejected,
        AgencyWaitlisted,
        ParticipantNominated,
        PairFormed,
        PairDissolved,
        RoundStarted,
        PlanSubmitted,
        PlanRevised,
        PlanReminderIssued,
        PlanDeadlinePassed,
        PresentationRecorded,
        RoundClosed,
        PersonalDataErased,
        FormMapped,
        DeliveryHeld,
        HeldDeliveryTakenUp,
    )
}
"""Event type name → its current model."""

Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class EventMetadata(BaseModel):
    """The envelope every stored event carries beside its payload.

    Kept out of the payload models so `decide` stays pure: the command handler stamps ids,
    clocks and actors when it appends.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: Identifier
    occurred_at: UtcDateTime
    recorded_at: UtcDateTime
    correlation_id: Identifier
    causation_id: Identifier
    actor: Identifier
