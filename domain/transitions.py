"""The scheduled lifecycle: which transition comes next, when it is due, and what it records.

A transition command decides events only when it is the round's next transition and its time
has come. That makes every transition idempotent and safe after a reschedule: fired twice,
early, out of order or on a finished round, it changes nothing and the state machine recomputes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Final, assert_never

from domain.commands import (
    CloseApplications,
    CloseRound,
    IssuePlanReminder,
    OpenApplications,
    PassPlanDeadline,
    ScheduledTransition,
    StartRound,
)
from domain.rules import ensure_round_exists
from domain.state import RoundState
from events import (
    ApplicationsClosed,
    ApplicationsOpened,
    Event,
    PlanDeadlinePassed,
    PlanReminderIssued,
    RoundClosed,
    RoundStarted,
)

TRANSITION_COMMANDS: Final[dict[str, Callable[[str], ScheduledTransition]]] = {
    "OpenApplications": OpenApplications,
    "CloseApplications": CloseApplications,
    "StartRound": StartRound,
    "IssuePlanReminder": IssuePlanReminder,
    "PassPlanDeadline": PassPlanDeadline,
    "CloseRound": CloseRound,
}
"""The command for each name `next_transition` gives, built from a round id."""

PLAN_REMINDER_LEAD: Final = timedelta(days=14)
"""How long before `plan_due_at` the pairs still without a plan are reminded."""


def next_transition(state: RoundState) -> tuple[str, datetime] | None:
    """The next scheduled transition's command name and when it is due; None once finished.

    The one statement of the lifecycle's order; the state machine waits on it.
    """
    dates = state.dates
    match state.status:
        case "scheduled":
            return "OpenApplications", dates.application_opens_at
        case "open":
            return "CloseApplications", dates.application_closes_at
        case "selection":
            return "StartRound", dates.starts_at
        case "running" if state.deadline_passed:
            return "CloseRound", dates.closes_at
        case "running" if state.reminder_issued:
            return "PassPlanDeadline", dates.plan_due_at
        case "running":
            return "IssuePlanReminder", dates.plan_due_at - PLAN_REMINDER_LEAD
        case _:
            return None


def decide_transition(
    command: ScheduledTransition, state: RoundState | None, now: datetime
) -> list[Event]:
    """The transition's event if it is the round's next one and due; otherwise nothing."""
    state = ensure_round_exists(state, command.round_id)
    due = next_transition(state)
    if due is None or due[0] != type(command).__name__ or now < due[1]:
        return []
    due_at = due[1]
    match command:
        case OpenApplications():
            return [ApplicationsOpened(due_at=due_at)]
        case CloseApplications():
            return [ApplicationsClosed(due_at=due_at, applications=state.live_applications())]
        case StartRound():
            return [
                RoundStarted(due_at=due_at, admitted=state.admitted(), unpaired=state.unpaired())
            ]
        case IssuePlanReminder():
            return [
                PlanReminderIssued(
                    due_at=due_at,
                    plan_due_at=state.dates.plan_due_at,
                    pairs_without_plan=state.pairs_without_plan(),
                )
            ]
        case PassPlanDeadline():
            return [
                PlanDeadlinePassed(due_at=due_at, pairs_without_plan=state.pairs_without_plan())
            ]
        case CloseRound():
            return [_round_closed(state, due_at)]
        case _:
            assert_never(command)


def _round_closed(state: RoundState, due_at: datetime) -> RoundClosed:
    pairs = state.active_pairs()
    plans = [p.plan for p in pairs if p.plan is not None]
    return RoundClosed(
        due_at=due_at,
        admitted=len(state.admitted()),
        pairs=len(pairs),
        plans_submitted=len(plans),
        plans_late=sum(plan.late for plan in plans),
        presentations=sum(p.presented_at is not None for p in pairs),
        themes=tuple(t for t in state.themes if any(p.theme == t for p in pairs)),
    )
