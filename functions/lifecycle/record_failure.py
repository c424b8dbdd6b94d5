"""Task `RecordFailure`: a failure the state machine caught after its retries, made visible.

Logs the error (its type and cause, never a payload) and counts it in `LifecycleFailures`;
the machine then ends in its Fail state, so `ExecutionsFailed` raises the alarm too, and the
daily reconciler starts the round's next generation once the cause is fixed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

logger = Logger()
metrics = Metrics()

MAX_CAUSE_CHARS = 2_000


class CaughtError(BaseModel):
    """What a Catch puts at its ResultPath: the error name and, mostly, a cause."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    Error: str = "Unknown"
    Cause: str = ""


class RecordFailureInput(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    round_id: str
    execution: str
    failure: CaughtError


@logger.inject_lambda_context(correlation_id_path="execution")
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = RecordFailureInput.model_validate(event)
    metrics.add_metric(name="LifecycleFailures", unit=MetricUnit.Count, value=1)
    logger.error(
        "round lifecycle failed",
        extra={
            "round_id": task.round_id,
            "execution": task.execution,
            "error": task.failure.Error,
            "cause": task.failure.Cause[:MAX_CAUSE_CHARS],
        },
    )
    return {"round_id": task.round_id, "error": task.failure.Error, "recorded": True}
