"""Task `NextTransition`: what is the round's next transition, and until when to wait for it.

Returns the state the machine carries on with: the round, the schedule and generation this
execution follows, its loop count and when its first loop ran (`started_at`), and either
`done` (closed or cancelled: the execution succeeds), `renew` (hand the round to the
execution named `next_schedule_version`/`next_generation`, see `policy`), or the `action`
with its `due_at` and the instant the Wait state ends (`wait_until`: when it is due, or when
this execution must hand over if that is sooner).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain import RoundNotFoundError, fold, next_transition
from domain.streams import round_stream_id
from events import RoundRescheduled, RoundScheduled
from functions.common import bootstrap
from functions.lifecycle import policy
from functions.lifecycle.executions import ExecutionName
from infra.eventstore import RecordedEvent

logger = Logger()


class NextTransitionInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    round_id: str = Field(min_length=1)
    schedule_version: int = Field(default=1, ge=1)  # executions started before it existed: 1
    generation: int = Field(ge=1)
    iteration: int = Field(ge=0)
    started_at: AwareDatetime | None = None  # None on the first loop: stamped now


def schedule_version(recorded: list[RecordedEvent]) -> int:
    """The stream version of the event that set the round's current dates."""
    return max(
        (r.version for r in recorded if isinstance(r.event, RoundScheduled | RoundRescheduled)),
        default=1,
    )


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = NextTransitionInput.model_validate(event)
    clock = bootstrap.clock()
    recorded = list(bootstrap.event_store().read(round_stream_id(task.round_id)))
    state = fold(r.event for r in recorded)
    if state is None:
        raise RoundNotFoundError(f"round {task.round_id!r} does not exist")
    started_at: datetime = task.started_at or clock()
    iteration = task.iteration + 1
    step: dict[str, Any] = {
        "round_id": task.round_id,
        "schedule_version": task.schedule_version,
        "generation": task.generation,
        "iteration": iteration,
        "started_at": policy.iso_utc(started_at),
        "status": state.status,
        "done": False,
        "renew": False,
    }
    where = {"round_id": task.round_id, "execution": str(_name(task))}
    due = next_transition(state)
    if due is None:
        logger.info("round finished", extra={**where, "status": state.status})
        return {**step, "done": True}
    if task.started_at is None and task.iteration > 0:
        # Only an execution of the definition before `started_at` existed loops without one:
        # its Waits were capped at a day and its age is unknown, so it hands over now, to a
        # next generation that runs the current definition (and acts on any newer schedule).
        successor = _name(task).next_generation()
        logger.info(
            "handing over from the former definition", extra={**where, "next": str(successor)}
        )
        return _renew(step, successor)
    current = schedule_version(recorded)
    if current > task.schedule_version:
        successor = ExecutionName(task.round_id, current)
        logger.info("superseded by a newer schedule", extra={**where, "next": str(successor)})
        return _renew(step, successor)
    if policy.must_renew(clock, started_at, iteration):
        successor = _name(task).next_generation()
        logger.info("handing over to the next generation", extra={**where, "next": str(successor)})
        return _renew(step, successor)
    action, due_at = due
    wait_until = policy.wake_at(clock, due_at, started_at)
    logger.info(
        "next transition",
        extra={**where, "action": action, "due_at": policy.iso_utc(due_at)},
    )
    return {
        **step,
        "action": action,
        "due_at": policy.iso_utc(due_at),
        "wait_until": policy.iso_utc(wait_until),
        "wait_seconds": policy.seconds_until(wait_until),
    }


def _name(task: NextTransitionInput) -> ExecutionName:
    return ExecutionName(task.round_id, task.schedule_version, task.generation)


def _renew(step: dict[str, Any], successor: ExecutionName) -> dict[str, Any]:
    return {
        **step,
        "renew": True,
        "next_schedule_version": successor.schedule_version,
        "next_generation": successor.generation,
    }
