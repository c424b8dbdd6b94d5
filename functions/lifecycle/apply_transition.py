"""Task `ApplyTransition`: run the named transition's command through the command handler.

Idempotent by the domain's rule: a transition that is not the round's next one, or not yet
due (the round was rescheduled or cancelled during the Wait, or this task is a retry),
decides no events, and the loop simply asks `NextTransition` again.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from domain.streams import round_stream_id
from functions.common import bootstrap
from functions.lifecycle.transitions import ACTOR, transition

logger = Logger()
metrics = Metrics()


class ApplyTransitionInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    round_id: str = Field(min_length=1)
    action: str = Field(min_length=1)
    execution: str = Field(min_length=1)


@logger.inject_lambda_context(correlation_id_path="execution")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = ApplyTransitionInput.model_validate(event)
    result = bootstrap.command_handler().handle(
        transition(task.action, task.round_id),
        stream_id=round_stream_id(task.round_id),
        actor=ACTOR,
        correlation_id=task.execution,
    )
    recorded = [item.event.type for item in result.events]
    where = {"round_id": task.round_id, "action": task.action, "version": result.version}
    if recorded:
        metrics.add_metric(name="TransitionsApplied", unit=MetricUnit.Count, value=1)
        logger.info("transition applied", extra={**where, "events": recorded})
    else:
        metrics.add_metric(name="TransitionsNotDue", unit=MetricUnit.Count, value=1)
        logger.info("transition not due: nothing recorded", extra=where)
    return {"action": task.action, "recorded": recorded, "version": result.version}
