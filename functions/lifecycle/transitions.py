"""The scheduled transitions by the command name `next_transition` gives them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from domain import (
    CloseApplications,
    CloseRound,
    IssuePlanReminder,
    OpenApplications,
    PassPlanDeadline,
    ScheduledTransition,
    StartRound,
)

TRANSITIONS: Final[dict[str, Callable[[str], ScheduledTransition]]] = {
    "OpenApplications": OpenApplications,
    "CloseApplications": CloseApplications,
    "StartRound": StartRound,
    "IssuePlanReminder": IssuePlanReminder,
    "PassPlanDeadline": PassPlanDeadline,
    "CloseRound": CloseRound,
}

ACTOR: Final = "scheduler:round-lifecycle"
"""Who the recorded transitions name as their actor."""


class UnknownTransitionError(ValueError):
    """The state machine asked for a transition no command implements (never retried)."""


def transition(action: str, round_id: str) -> ScheduledTransition:
    try:
        return TRANSITIONS[action](round_id)
    except KeyError:
        raise UnknownTransitionError(f"no scheduled transition is named {action!r}") from None
