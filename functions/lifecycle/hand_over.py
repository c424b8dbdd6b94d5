"""Task `HandOver`: start the execution that carries the round on, so this one can end.

That is this schedule's next generation when the execution has lived long enough, or the
first execution of a newer schedule when the round was rescheduled since it started (see
`policy`). A retry, a hand-over that did happen but whose answer was lost, or the starter
having started that schedule's execution already, finds it started, which is just as good:
the start is idempotent by its name.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from functions.common import bootstrap
from functions.lifecycle.executions import ExecutionName, start_execution

logger = Logger()


class HandOverInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    round_id: str = Field(min_length=1)
    next_schedule_version: int = Field(default=1, ge=1)
    next_generation: int = Field(ge=1)
    state_machine_arn: str = Field(min_length=1)
    execution: str = Field(min_length=1)


@logger.inject_lambda_context(correlation_id_path="execution")
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = HandOverInput.model_validate(event)
    name = ExecutionName(task.round_id, task.next_schedule_version, task.next_generation)
    started = start_execution(bootstrap.stepfunctions_client(), task.state_machine_arn, name)
    logger.info(
        "handed over" if started else "next execution already started",
        extra={"round_id": task.round_id, "next": str(name)},
    )
    return {"next_execution": str(name), "started": started}
