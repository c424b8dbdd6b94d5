"""A round's state, rebuilt from its events: `evolve` applies one fact, `fold` a whole stream.

`evolve` never re-checks a rule. A stored event is a fact; a rule tightened later must not make
an old stream unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from events import (
    AgencyAdmitted,
    AgencyApplied,
    AgencyRejected,
    AgencyWaitlisted,
    ApplicationRefused,
    ApplicationsClosed,
    ApplicationsOpened,
    ApplicationWithdrawn,
    DeliveryHeld,
    Event,
    FormMapped,
    HeldDeliveryTakenUp,
    PairDissolved,
    PairFormed,
    ParticipantNominated,
    ParticipantRole,
    PersonalDataErased,
    PlanDeadlinePassed,
    PlanReminderIssued,
    PlanRevised,
    PlanSubmitted,
    PresentationRecorded,
    RoundCancelled,
    RoundClosed,
    RoundRescheduled,
    RoundScheduled,
    RoundStarted,
)

# Bump when `evolve` comes to fold the same events into a different state without a field of
# `RoundState` changing: snapshots kept under the old revision are then folded anew, not trusted.
# (A changed field changes the snapshot format by itself.)
STATE_REVISION = 2  # 2: `deliveries` holds (source, id) keys, not bare ids

RoundStatus = Literal["scheduled", "open", "selection", "running", "closed", "cancelled"]
ApplicationStatus = Literal["applied", "withdrawn", "admitted", "rejected", "waitlisted"]

LIFECYCLE: tuple[RoundStatus, ...] = ("scheduled", "open", "selection", "running", "closed")
LIVE_APPLICATION: frozenset[ApplicationStatus] = frozenset({"applied", "admitted", "waitlisted"})


@dataclass(frozen=True, slots=True)
class Dates:
    """The five instants of a round, in the order they must fall."""

    application_opens_at: datetime
    application_closes_at: datetime
    starts_at: datetime
    plan_due_at: datetime
    closes_at: datetime

    def in_order(self) -> tuple[datetime, ...]:
        return (
            self.application_opens_at,
            self.application_closes_at,
            self.starts_at,
            self.plan_due_at,
            self.closes_at,
        )


DATE_FIELDS: tuple[str, ...] = (
    "application_opens_at",
    "application_closes_at",
    "starts_at",
    "plan_due_at",
    "closes_at",
)


@dataclass(frozen=True, slots=True)
class Application:
    org_number: str
    agency_name: str
    status: ApplicationStatus
    delivery_id: str | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    """The latest revision of a pair's plan; `submitted_at` and `late` are the first submission's.

    A revision after the deadline does not make a plan that was in on time late.
    """

    revision: int
    sha256: str
    submitted_at: datetime
    late: bool


@dataclass(frozen=True, slots=True)
class Pair:
    pair_id: str
    org_numbers: tuple[str, ...]
    theme: str
    dissolved: bool = False
    plan: Plan | None = None
    presented_at: datetime | None = None

    @property
    def active(self) -> bool:
        return not self.dissolved

    @property
    def is_trio(self) -> bool:
        return len(self.org_numbers) == 3


@dataclass(frozen=True, slots=True)
class Participant:
    role: ParticipantRole
    subject_id: str


@dataclass(frozen=True, slots=True)
class RoundState:
    """Everything the rules need to know about one round. Mappings are never mutated in place."""

    round_id: str
    number: int
    title: str
    status: RoundStatus
    dates: Dates
    capacity: int
    themes: tuple[str, ...]
    applications: Mapping[str, Application] = field(default_factory=dict)
    pairs: Mapping[str, Pair] = field(default_factory=dict)
    participants: Mapping[str, tuple[Participant, ...]] = field(default_factory=dict)
    deliveries: frozenset[str] = frozenset()  # `delivery_key(source, id)` of each seen
    reminded_for: datetime | None = None
    deadline_passed: bool = False
    next_pair_number: int = 1

    @property
    def reminder_issued(self) -> bool:
        """A reminder went out for the current `plan_due_at` (a moved deadline earns a new one)."""
        return self.reminded_for == self.dates.plan_due_at

    def admitted(self) -> tuple[str, ...]:
        return tuple(sorted(o for o, a in self.applications.items() if a.status == "admitted"))

    def live_applications(self) -> int:
        return sum(a.status in LIVE_APPLICATION for a in self.applications.values())

    def active_pairs(self) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs.values() if p.active)

    def active_pair_of(self, org_number: str) -> Pair | None:
        return next((p for p in self.active_pairs() if org_number in p.org_numbers), None)

    def unpaired(self) -> tuple[str, ...]:
        return tuple(o for o in self.admitted() if self.active_pair_of(o) is None)

    def pairs_without_plan(self) -> tuple[str, ...]:
        return tuple(p.pair_id for p in self.active_pairs() if p.plan is None)

    def nominees(self, org_number: str) -> tuple[Participant, ...]:
        return self.participants.get(org_number, ())


def evolve(state: RoundState | None, event: Event) -> RoundState:
    """The state after `event`; a round stream begins with `RoundScheduled`."""
    if isinstance(event, RoundScheduled):
        return _scheduled(event)
    if state is None:
        raise ValueError(f"a round stream begins with RoundScheduled, not {event.type}")
    match event:
        case RoundRescheduled():
            return replace(state, dates=_dates(event))
        case RoundCancelled():
            return replace(state, status="cancelled")
        case ApplicationsOpened():
            return replace(state, status="open")
        case ApplicationsClosed():
            return replace(state, status="selection")
        case RoundStarted():
            return replace(state, status="running")
        case PlanReminderIssued():
            return replace(state, reminded_for=event.plan_due_at)
        case PlanDeadlinePassed():
            return replace(state, deadline_passed=True)
        case RoundClosed():
            return replace(state, status="closed")
        case AgencyApplied():
            application = Application(
                event.org_number, event.agency_name, "applied", event.delivery_id
            )
            return replace(
                _with_application(state, application),
                deliveries=_seen(state.deliveries, event.source, event.delivery_id),
            )
        case ApplicationRefused():
            return replace(
                state, deliveries=_seen(state.deliveries, event.source, event.delivery_id)
            )
        case ApplicationWithdrawn():
            return _with_status(state, event.org_number, "withdrawn")
        case AgencyAdmitted():
            return _with_status(state, event.org_number, "admitted")
        case AgencyRejected():
            return _with_status(state, event.org_number, "rejected")
        case AgencyWaitlisted():
            return _with_status(state, event.org_number, "waitlisted")
        case ParticipantNominated():
            nominee = Participant(event.role, event.person.subject_id)
            nominees = (*state.nominees(event.org_number), nominee)
            return replace(state, participants={**state.participants, event.org_number: nominees})
        case PairFormed():
            pair = Pair(event.pair_id, tuple(event.org_numbers), event.theme)
            return replace(
                _with_pair(state, pair),
                next_pair_number=max(state.next_pair_number, _pair_number(event.pair_id)) + 1,
            )
        case PairDissolved():
            return _update_pair(state, event.pair_id, lambda p: replace(p, dissolved=True))
        case PlanSubmitted():
            plan = Plan(1, event.document_sha256, event.submitted_at, event.late)
            return _update_pair(state, event.pair_id, lambda p: replace(p, plan=plan))
        case PlanRevised():
            return _update_pair(
                state, event.pair_id, lambda p: replace(p, plan=_revised(p.plan, event))
            )
        case PresentationRecorded():
            return _update_pair(
                state, event.pair_id, lambda p: replace(p, presented_at=event.held_at)
            )
        case PersonalDataErased():
            # Belongs to a subject's stream; the round's ciphertexts simply become unreadable.
            return state
        case FormMapped() | DeliveryHeld() | HeldDeliveryTakenUp():
            raise ValueError(f"{event.type} belongs to a form's stream, not a round's")


def fold(events: Iterable[Event]) -> RoundState | None:
    """The state after a whole stream, or None for an empty one (no such round)."""
    state: RoundState | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _scheduled(event: RoundScheduled) -> RoundState:
    return RoundState(
        round_id=event.round_id,
        number=event.number,
        title=event.title,
        status="scheduled",
        dates=_dates(event),
        capacity=event.capacity,
        themes=tuple(event.themes),
    )


def _dates(event: RoundScheduled | RoundRescheduled) -> Dates:
    return Dates(
        event.application_opens_at,
        event.application_closes_at,
        event.starts_at,
        event.plan_due_at,
        event.closes_at,
    )


def delivery_key(source: str, delivery_id: str) -> str:
    """What identifies a delivery within a round: its sender's id is unique only to that sender
    (a Standard Webhooks `webhook-id` may equal a Typeform `event_id`)."""
    return f"{source}\x1f{delivery_id}"


def _seen(deliveries: frozenset[str], source: str, delivery_id: str | None) -> frozenset[str]:
    return deliveries if delivery_id is None else deliveries | {delivery_key(source, delivery_id)}


def _with_application(state: RoundState, application: Application) -> RoundState:
    return replace(state, applications={**state.applications, application.org_number: application})


def _with_status(state: RoundState, org_number: str, status: ApplicationStatus) -> RoundState:
    # An old stream may decide on an application this code never saw; the fact still stands.
    current = state.applications.get(org_number, Application(org_number, "", status))
    return _with_application(state, replace(current, status=status))


def _with_pair(state: RoundState, pair: Pair) -> RoundState:
    return replace(state, pairs={**state.pairs, pair.pair_id: pair})


def _update_pair(state: RoundState, pair_id: str, change: Callable[[Pair], Pair]) -> RoundState:
    pair = state.pairs.get(pair_id)
    return state if pair is None else _with_pair(state, change(pair))


def _revised(plan: Plan | None, event: PlanRevised) -> Plan:
    if plan is None:  # an old stream may revise a plan this code never saw submitted
        return Plan(event.revision, event.document_sha256, event.submitted_at, event.late)
    return replace(plan, revision=event.revision, sha256=event.document_sha256)


def _pair_number(pair_id: str) -> int:
    """n for `pair-<n>`; 0 for ids of another shape (they still advance the counter)."""
    match = re.fullmatch(r"pair-([0-9]{1,9})", pair_id)
    return int(match[1]) if match else 0
