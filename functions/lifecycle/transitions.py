"""The scheduled transitions by the command name `next_transition` gives them."""

from __future__ import annotations

from typing import Final

from domain import TRANSITION_COMMANDS, ScheduledTransition

ACTOR: Final = "scheduler:round-lifecycle"
"""Who the recorded transitions name as their actor."""


class UnknownTransitionError(ValueError):
    """The state machine asked for a transition no command implements (never retried)."""


def transition(action: str, round_id: str) -> ScheduledTransition:
    try:
        return TRANSITION_COMMANDS[action](round_id)
    except KeyError:
        raise UnknownTransitionError(f"no scheduled transition is named {action!r}") from None
