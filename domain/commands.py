"""Commands: what staff, forms and the scheduler ask of a round, in the imperative.

Plain frozen dataclasses (the domain imports only the standard library and `events`);
input is validated at the edge before a command is built, rules are checked in `decide`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from events import (
    FormField,
    FormProvider,
    ParticipantRole,
    SealedDelivery,
    SealedPersonalData,
    Source,
    TakeUpOutcome,
)


@dataclass(frozen=True, slots=True)
class ScheduleRound:
    round_id: str
    number: int
    title: str
    capacity: int
    themes: tuple[str, ...]
    application_opens_at: datetime
    application_closes_at: datetime
    starts_at: datetime
    plan_due_at: datetime
    closes_at: datetime


@dataclass(frozen=True, slots=True)
class RescheduleRound:
    """Move any of the five dates; `None` keeps a date as it is."""

    round_id: str
    application_opens_at: datetime | None = None
    application_closes_at: datetime | None = None
    starts_at: datetime | None = None
    plan_due_at: datetime | None = None
    closes_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CancelRound:
    round_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class ApplyForRound:
    """An agency's application; `org_number` is raw input (with or without the hyphen)."""

    round_id: str
    org_number: str
    agency_name: str
    director_general: SealedPersonalData
    contact: SealedPersonalData
    themes: tuple[str, ...]
    submitted_at: datetime
    source: Source
    preferred_partner: str | None = None
    motivation: SealedPersonalData | None = None  # sealed under the contact's subject
    delivery_id: str | None = None


@dataclass(frozen=True, slots=True)
class RefuseApplication:
    """Record an application the rules refused, so staff can see it."""

    round_id: str
    org_number: str
    agency_name: str
    rule: str
    reason: str
    source: Source
    delivery_id: str | None = None


@dataclass(frozen=True, slots=True)
class WithdrawApplication:
    round_id: str
    org_number: str
    reason: str | None = None


Decision = Literal["admit", "reject", "waitlist"]


@dataclass(frozen=True, slots=True)
class DecideApplication:
    """Staff's selection decision on one applicant (with an optional diarienummer)."""

    round_id: str
    org_number: str
    decision: Decision
    case_number: str | None = None


@dataclass(frozen=True, slots=True)
class NominateParticipant:
    round_id: str
    org_number: str
    role: ParticipantRole
    person: SealedPersonalData


@dataclass(frozen=True, slots=True)
class FormPair:
    """Pair two agencies (three when the admitted count is odd); `decide` assigns the id."""

    round_id: str
    org_numbers: tuple[str, ...]
    theme: str


@dataclass(frozen=True, slots=True)
class DissolvePair:
    round_id: str
    pair_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class SubmitPlan:
    """Submit a pair's plan; a later submission with another document is a revision."""

    round_id: str
    pair_id: str
    title: str
    document_url: str
    document_sha256: str


@dataclass(frozen=True, slots=True)
class RecordPresentation:
    round_id: str
    pair_id: str
    held_at: datetime


# Scheduled transitions: fired by the state machine at their due time. Each is idempotent:
# fired twice, or before it is due (say after a reschedule), it decides no events.


@dataclass(frozen=True, slots=True)
class OpenApplications:
    round_id: str


@dataclass(frozen=True, slots=True)
class CloseApplications:
    round_id: str


@dataclass(frozen=True, slots=True)
class StartRound:
    round_id: str


@dataclass(frozen=True, slots=True)
class IssuePlanReminder:
    round_id: str


@dataclass(frozen=True, slots=True)
class PassPlanDeadline:
    round_id: str


@dataclass(frozen=True, slots=True)
class CloseRound:
    round_id: str


Command = (
    ScheduleRound
    | RescheduleRound
    | CancelRound
    | ApplyForRound
    | RefuseApplication
    | WithdrawApplication
    | DecideApplication
    | NominateParticipant
    | FormPair
    | DissolvePair
    | SubmitPlan
    | RecordPresentation
    | OpenApplications
    | CloseApplications
    | StartRound
    | IssuePlanReminder
    | PassPlanDeadline
    | CloseRound
)

ScheduledTransition = (
    OpenApplications
    | CloseApplications
    | StartRound
    | IssuePlanReminder
    | PassPlanDeadline
    | CloseRound
)


# Erasure belongs to a person's subject stream, not to a round: not part of `Command`.


@dataclass(frozen=True, slots=True)
class ErasePersonalData:
    """Destroy a person's data key (crypto-shredding), under a recorded retention decision."""

    subject_id: str
    retention_decision: str


@dataclass(frozen=True, slots=True)
class RefuseForUnknownRound:
    """Record an application refused because the round it names does not exist.

    Kept on a stream of its own (`domain.streams.refusal_stream_id`), not part of `Command`.
    """

    requested_round_id: str
    org_number: str
    agency_name: str
    rule: str
    reason: str
    source: Source
    delivery_id: str


@dataclass(frozen=True, slots=True)
class MapForm:
    """Staff say which field of a form holds which of the programme's (`events.FORM_FIELDS`)."""

    provider: FormProvider
    form_id: str
    fields: Mapping[FormField, str]


@dataclass(frozen=True, slots=True)
class HoldDelivery:
    """Keep a signed delivery that could not be read as an application, sealed, to read later."""

    provider: FormProvider
    form_id: str
    delivery_id: str
    received_at: datetime
    missing: tuple[str, ...]
    reason: str
    delivery: SealedDelivery


@dataclass(frozen=True, slots=True)
class RecordTakeUp:
    """A held delivery was read and handed to its round, with what became of it there."""

    form_id: str
    delivery_id: str
    outcome: TakeUpOutcome
    round_id: str | None = None


FormCommand = MapForm | HoldDelivery | RecordTakeUp
