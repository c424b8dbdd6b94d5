"""Task `NextTransition`: what is the round's next transition, and until when to wait for it.

Returns the state the machine carries on with: the round, its generation and loop count,
and either `done` (closed or cancelled: the execution succeeds), `renew` (hand the round to
the next generation, see `policy`), or the `action` with its `due_at` and the instant the
Wait state ends (`wait_until`, at most a day ahead).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from domain import RoundNotFoundError, fold, next_transition
from functions.common import bootstrap
from functions.lifecycle import policy
from infra.command_handler import round_stream_id

logger = Logger()


class NextTransitionInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    round_id: str = Field(min_length=1)
    generation: int = Field(ge=1)
    iteration: int = Field(ge=0)


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = NextTransitionInput.model_validate(event)
    store = bootstrap.event_store()
    state = fold(recorded.event for recorded in store.read(round_stream_id(task.round_id)))
    if state is None:
        raise RoundNotFoundError(f"round {task.round_id!r} does not exist")
    iteration = task.iteration + 1
    step: dict[str, Any] = {
        "round_id": task.round_id,
        "generation": task.generation,
        "iteration": iteration,
        "status": state.status,
        "done": False,
        "renew": False,
    }
    due = next_transition(state)
    if due is None:
        logger.info("round finished", extra={"round_id": task.round_id, "status": state.status})
        return {**step, "done": True}
    if iteration > policy.ITERATIONS_PER_EXECUTION:
        logger.info(
            "handing over to the next generation",
            extra={"round_id": task.round_id, "iteration": iteration},
        )
        return {**step, "renew": True, "next_generation": task.generation + 1}
    action, due_at = due
    wait_until = policy.wake_at(bootstrap.clock(), due_at)
    logger.info(
        "next transition",
        extra={"round_id": task.round_id, "action": action, "due_at": policy.iso_utc(due_at)},
    )
    return {
        **step,
        "action": action,
        "due_at": policy.iso_utc(due_at),
        "wait_until": policy.iso_utc(wait_until),
        "wait_seconds": policy.seconds_until(wait_until),
    }
