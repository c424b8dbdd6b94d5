"""Decisions: given a command, the round's state and the time, the events that happen (or an error).

One small function per command. A command that asks for what already holds (a repeated delivery,
the same decision twice, a transition fired again) decides no events rather than failing, so
every caller may retry freely. The scheduled transitions live in `domain.transitions`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Final, Protocol, assert_never

from domain.commands import (
    ApplyForRound,
    CancelRound,
    CloseApplications,
    CloseRound,
    Command,
    DecideApplication,
    Decision,
    DissolvePair,
    FormPair,
    IssuePlanReminder,
    NominateParticipant,
    OpenApplications,
    PassPlanDeadline,
    RecordPresentation,
    RefuseApplication,
    RescheduleRound,
    ScheduleRound,
    StartRound,
    SubmitPlan,
    WithdrawApplication,
)
from domain.refusals import refusal_event
from domain.rules import (
    ensure_admitted,
    ensure_agency_name,
    ensure_application_live,
    ensure_capacity_in_range,
    ensure_capacity_left,
    ensure_date_still_movable,
    ensure_dates_increasing,
    ensure_distinct_agencies,
    ensure_first_application,
    ensure_has_applied,
    ensure_known_themes,
    ensure_no_personal_data_in_free_text,
    ensure_not_in_active_pair,
    ensure_not_in_future,
    ensure_not_organiser,
    ensure_not_paired,
    ensure_not_withdrawn,
    ensure_one_director_general,
    ensure_pair_active,
    ensure_pair_exists,
    ensure_pair_has_no_plan,
    ensure_pair_size,
    ensure_partner_is_another_agency,
    ensure_plan_submitted,
    ensure_round_exists,
    ensure_round_is_new,
    ensure_round_is_open,
    ensure_round_is_running,
    ensure_round_not_cancelled,
    ensure_round_not_closed,
    ensure_selection_under_way,
    ensure_themes_given,
    ensure_trio_allowed,
    ensure_trio_keeps_odd_count,
    ensure_valid_org_number,
)
from domain.state import (
    DATE_FIELDS,
    ApplicationStatus,
    Dates,
    Participant,
    RoundState,
    delivery_key,
)
from domain.transitions import PLAN_REMINDER_LEAD, decide_transition, next_transition
from events import (
    AgencyAdmitted,
    AgencyApplied,
    AgencyRejected,
    AgencyWaitlisted,
    ApplicationWithdrawn,
    Event,
    PairDissolved,
    PairFormed,
    ParticipantNominated,
    PlanRevised,
    PlanSubmitted,
    PresentationRecorded,
    RoundCancelled,
    RoundRescheduled,
    RoundScheduled,
    Source,
)

_DECISIONS: Final[
    Mapping[
        Decision,
        tuple[ApplicationStatus, type[AgencyAdmitted | AgencyRejected | AgencyWaitlisted]],
    ]
] = {
    "admit": ("admitted", AgencyAdmitted),
    "reject": ("rejected", AgencyRejected),
    "waitlist": ("waitlisted", AgencyWaitlisted),
}


def decide(command: Command, state: RoundState | None, now: datetime) -> list[Event]:
    """The events `command` causes on a round in `state` at `now`; raises a `DomainError`."""
    match command:
        case ScheduleRound():
            return _schedule(command, state)
        case RescheduleRound():
            return _reschedule(command, state)
        case CancelRound():
            return _cancel(command, state)
        case ApplyForRound():
            return _apply(command, state, now)
        case RefuseApplication():
            return _refuse(command, state)
        case WithdrawApplication():
            return _withdraw(command, state)
        case DecideApplication():
            return _decide_application(command, state)
        case NominateParticipant():
            return _nominate(command, state)
        case FormPair():
            return _form_pair(command, state)
        case DissolvePair():
            return _dissolve_pair(command, state)
        case SubmitPlan():
            return _submit_plan(command, state, now)
        case RecordPresentation():
            return _record_presentation(command, state, now)
        case (
            OpenApplications()
            | CloseApplications()
            | StartRound()
            | IssuePlanReminder()
            | PassPlanDeadline()
            | CloseRound()
        ):
            return decide_transition(command, state, now)
        case _:
            assert_never(command)


# Scheduling


def _schedule(command: ScheduleRound, state: RoundState | None) -> list[Event]:
    ensure_no_personal_data_in_free_text("title", command.title)
    ensure_round_is_new(state)
    ensure_capacity_in_range(command.capacity)
    themes = ensure_themes_given(command.themes)
    dates = Dates(
        command.application_opens_at,
        command.application_closes_at,
        command.starts_at,
        command.plan_due_at,
        command.closes_at,
    )
    ensure_dates_increasing(dates)
    return [
        RoundScheduled(
            round_id=command.round_id,
            number=command.number,
            title=command.title,
            capacity=command.capacity,
            themes=themes,
            **asdict(dates),
        )
    ]


def _reschedule(command: RescheduleRound, state: RoundState | None) -> list[Event]:
    state = _in_progress(state, command.round_id)
    moved = {
        name: new
        for name in DATE_FIELDS
        if (new := getattr(command, name)) is not None and new != getattr(state.dates, name)
    }
    if not moved:
        return []
    for name in moved:
        ensure_date_still_movable(state, name)
    dates = replace(state.dates, **moved)
    ensure_dates_increasing(dates)
    return [RoundRescheduled(**asdict(dates))]


def _cancel(command: CancelRound, state: RoundState | None) -> list[Event]:
    ensure_no_personal_data_in_free_text("reason", command.reason)
    state = ensure_round_exists(state, command.round_id)
    if state.status == "cancelled":
        return []
    ensure_round_not_closed(state)
    return [RoundCancelled(reason=command.reason)]


# Applications


class ApplicationTerms(Protocol):
    """What the rules read of an application: `ApplyForRound` without the people in it."""

    @property
    def round_id(self) -> str: ...
    @property
    def org_number(self) -> str: ...
    @property
    def agency_name(self) -> str: ...
    @property
    def themes(self) -> Sequence[str]: ...
    @property
    def preferred_partner(self) -> str | None: ...
    @property
    def source(self) -> Source: ...
    @property
    def delivery_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ScreenedApplication:
    """An application the rules accept, its numbers and themes as they will be stored."""

    org_number: str
    agency_name: str
    preferred_partner: str | None
    themes: tuple[str, ...]


def screen_application(
    application: ApplicationTerms, state: RoundState | None, now: datetime
) -> ScreenedApplication | None:
    """What `ApplyForRound` would decide, before anyone's data is sealed: None for a delivery
    the round has seen, the stored terms when it would be recorded; a broken rule raises."""
    state = ensure_round_exists(state, application.round_id)
    if application.delivery_id is not None and (
        delivery_key(application.source, application.delivery_id) in state.deliveries
    ):
        return None
    ensure_round_is_open(state, now)
    org_number = ensure_valid_org_number(application.org_number)
    ensure_not_organiser(org_number)
    ensure_first_application(state, org_number)
    agency_name = ensure_agency_name(application.agency_name)
    partner = _optional_text(application.preferred_partner)
    if partner is not None:
        partner = ensure_valid_org_number(partner)
        ensure_partner_is_another_agency(org_number, partner)
    themes = ensure_known_themes(state, ensure_themes_given(application.themes))
    return ScreenedApplication(org_number, agency_name, partner, themes)


def _apply(command: ApplyForRound, state: RoundState | None, now: datetime) -> list[Event]:
    screened = screen_application(command, state, now)
    if screened is None:
        return []
    return [
        AgencyApplied(
            org_number=screened.org_number,
            agency_name=screened.agency_name,
            director_general=command.director_general,
            contact=command.contact,
            themes=screened.themes,
            preferred_partner=screened.preferred_partner,
            motivation=command.motivation,
            submitted_at=command.submitted_at,
            source=command.source,
            delivery_id=command.delivery_id,
        )
    ]


def _refuse(command: RefuseApplication, state: RoundState | None) -> list[Event]:
    """Record what the rules refused; whatever the sender sent, the refusal must be storable."""
    state = ensure_round_exists(state, command.round_id)
    if command.delivery_id is not None and (
        delivery_key(command.source, command.delivery_id) in state.deliveries
    ):
        return []
    return [
        refusal_event(
            org_number=command.org_number,
            agency_name=command.agency_name,
            rule=command.rule,
            reason=command.reason,
            source=command.source,
            delivery_id=command.delivery_id,
        )
    ]


def _withdraw(command: WithdrawApplication, state: RoundState | None) -> list[Event]:
    ensure_no_personal_data_in_free_text("reason", command.reason)
    state = _in_progress(state, command.round_id)
    org_number = ensure_valid_org_number(command.org_number)
    application = ensure_has_applied(state, org_number)
    ensure_application_live(application)
    ensure_not_in_active_pair(state, org_number)
    if application.status == "admitted":
        ensure_trio_keeps_odd_count(state)
    return [ApplicationWithdrawn(org_number=org_number, reason=_optional_text(command.reason))]


# Selection


def _decide_application(command: DecideApplication, state: RoundState | None) -> list[Event]:
    ensure_no_personal_data_in_free_text("case_number", command.case_number)
    state = _in_progress(state, command.round_id)
    ensure_selection_under_way(state)
    org_number = ensure_valid_org_number(command.org_number)
    application = ensure_has_applied(state, org_number)
    ensure_not_withdrawn(application)
    status, event_type = _DECISIONS[command.decision]
    if application.status == status:
        return []
    if status == "admitted":
        ensure_capacity_left(state)
    if application.status == "admitted":
        ensure_not_in_active_pair(state, org_number)
    if "admitted" in (status, application.status):
        ensure_trio_keeps_odd_count(state)
    return [event_type(org_number=org_number, case_number=_optional_text(command.case_number))]


def _nominate(command: NominateParticipant, state: RoundState | None) -> list[Event]:
    state = _in_progress(state, command.round_id)
    org_number = ensure_valid_org_number(command.org_number)
    ensure_admitted(state, org_number)
    if Participant(command.role, command.person.subject_id) in state.nominees(org_number):
        return []
    if command.role == "director_general":
        ensure_one_director_general(state, org_number)
    return [ParticipantNominated(org_number=org_number, role=command.role, person=command.person)]


# Pairs, plans and presentations


def _form_pair(command: FormPair, state: RoundState | None) -> list[Event]:
    state = _in_progress(state, command.round_id)
    ensure_selection_under_way(state)
    org_numbers = tuple(ensure_valid_org_number(o) for o in command.org_numbers)
    ensure_pair_size(org_numbers)
    ensure_distinct_agencies(org_numbers)
    for org_number in org_numbers:
        ensure_admitted(state, org_number)
        ensure_not_paired(state, org_number)
    ensure_trio_allowed(state, org_numbers)
    (theme,) = ensure_known_themes(state, (command.theme,))
    # Derived from the stream, so a retry on fresh state names the pair the same way.
    pair_id = f"pair-{state.next_pair_number}"
    return [PairFormed(pair_id=pair_id, org_numbers=org_numbers, theme=theme)]


def _dissolve_pair(command: DissolvePair, state: RoundState | None) -> list[Event]:
    ensure_no_personal_data_in_free_text("reason", command.reason)
    state = _in_progress(state, command.round_id)
    pair = ensure_pair_exists(state, command.pair_id)
    ensure_pair_active(pair)
    ensure_pair_has_no_plan(pair)
    return [PairDissolved(pair_id=pair.pair_id, reason=command.reason)]


def _submit_plan(command: SubmitPlan, state: RoundState | None, now: datetime) -> list[Event]:
    ensure_no_personal_data_in_free_text("title", command.title)
    state = _in_progress(state, command.round_id)
    ensure_round_is_running(state)
    pair = ensure_pair_exists(state, command.pair_id)
    ensure_pair_active(pair)
    sha256 = command.document_sha256.lower()
    late = now > state.dates.plan_due_at
    if pair.plan is None:
        return [
            PlanSubmitted(
                pair_id=pair.pair_id,
                title=command.title,
                document_url=command.document_url,
                document_sha256=sha256,
                submitted_at=now,
                late=late,
            )
        ]
    if pair.plan.sha256 == sha256:
        return []
    return [
        PlanRevised(
            pair_id=pair.pair_id,
            revision=pair.plan.revision + 1,
            title=command.title,
            document_url=command.document_url,
            document_sha256=sha256,
            submitted_at=now,
            late=late,
        )
    ]


def _record_presentation(
    command: RecordPresentation, state: RoundState | None, now: datetime
) -> list[Event]:
    state = _in_progress(state, command.round_id)
    ensure_round_is_running(state)
    pair = ensure_pair_exists(state, command.pair_id)
    ensure_pair_active(pair)
    ensure_plan_submitted(pair)
    if pair.presented_at == command.held_at:
        return []
    ensure_not_in_future(command.held_at, now)
    return [PresentationRecorded(pair_id=pair.pair_id, held_at=command.held_at)]


# Helpers


def _in_progress(state: RoundState | None, round_id: str) -> RoundState:
    """Staff change only a round that exists and is neither cancelled nor closed."""
    state = ensure_round_exists(state, round_id)
    ensure_round_not_cancelled(state)
    ensure_round_not_closed(state)
    return state


def _optional_text(text: str | None) -> str | None:
    return (text or "").strip() or None


__all__ = ["PLAN_REMINDER_LEAD", "decide", "next_transition"]
