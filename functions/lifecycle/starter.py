"""Follows the round's schedule from the event store's stream: starts, restarts, stops executions.

Fed by the event store's DynamoDB stream, so it follows the durable event (no dual write:
the command only appends). Its mapping lets only these inserts through:

- `RoundScheduled` (stream version 1) starts the round's first execution, `2015-3`;
- `RoundRescheduled` at version v stops the round's running executions that follow an older
  schedule and starts `2015-3.v<v>`, which reads the new dates at once: a Wait is not capped,
  so a date moved earlier is met by this, not by a waiting execution looking again;
- `RoundCancelled` stops the round's running executions: nothing more is due.

Every step is idempotent, so a record delivered twice, a retried batch, or a replay from the
failure queue changes nothing more: the execution for a schedule is named after it (its
start is refused with `ExecutionAlreadyExists`, or is Step Functions' idempotent start of the
same running execution), only executions of an older schedule are stopped, and a record for
a schedule the round has moved past (an execution of a newer schedule, or a later generation
of this one, exists) is stale and skipped. A record whose step fails is reported alone
(`batchItemFailures`) and retried.
"""

from __future__ import annotations

from typing import Any, Final

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
    DynamoDBRecordEventName,
)
from aws_lambda_powertools.utilities.typing import LambdaContext

from domain.streams import round_id_of
from events import RoundCancelled, RoundRescheduled, RoundScheduled
from functions.common import bootstrap
from functions.common.settings import settings
from functions.lifecycle.executions import (
    ExecutionName,
    executions,
    start_execution,
    stop_execution,
)
from infra.eventstore import RecordedEvent
from infra.eventstore.dynamodb import recorded_event_from_item

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)

SCHEDULE_EVENTS: Final = frozenset({"RoundScheduled", "RoundRescheduled", "RoundCancelled"})
"""The event types the stream mapping's filter lets through (`template.yaml`)."""


def round_of(recorded: RecordedEvent) -> str | None:
    """The round whose stream holds the event (a round stream is `round-<round id>`)."""
    return round_id_of(recorded.stream_id)


def start_for_record(record: DynamoDBRecord) -> None:
    raw = record.raw_event.get("dynamodb") or {}
    image = raw.get("NewImage") or {}
    if record.event_name != DynamoDBRecordEventName.INSERT or "type" not in image:
        return
    if image["type"].get("S") not in SCHEDULE_EVENTS:
        return  # the event source's filter lets only these through on AWS; locally, all come
    recorded = recorded_event_from_item(image)
    round_id = round_of(recorded)
    if round_id is None:
        return
    match recorded.event:
        case RoundScheduled() | RoundRescheduled():
            follow_schedule(round_id, recorded.version)
        case RoundCancelled():
            stop_all(round_id, recorded.version)


def follow_schedule(round_id: str, version: int) -> None:
    """Make the execution of the schedule set at `version` the round's one running execution."""
    client = bootstrap.stepfunctions_client()
    state_machine_arn = settings().require("state_machine_arn")
    found = executions(client, state_machine_arn, round_id)
    name = ExecutionName(round_id, version)
    later = [str(e.name) for e in found if e.name > name]
    if later:
        logger.info(
            "schedule already carried on or superseded: nothing to do",
            extra={"round_id": round_id, "execution": str(name), "later": later},
        )
        return
    stale = [e for e in found if e.running and e.name.schedule_version < version]
    for execution in stale:
        stop_execution(client, execution, f"{round_id} follows the schedule of version {version}")
    exists = any(e.name == name for e in found)
    started = not exists and start_execution(client, state_machine_arn, name)
    if started:
        metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=1)
    logger.info(
        "lifecycle started" if started else "lifecycle already started",
        extra={
            "round_id": round_id,
            "execution": str(name),
            "stopped": [str(e.name) for e in stale],
        },
    )


def stop_all(round_id: str, version: int) -> None:
    """The round was cancelled: no execution of it runs on."""
    client = bootstrap.stepfunctions_client()
    found = executions(client, settings().require("state_machine_arn"), round_id)
    running = [e for e in found if e.running]
    for execution in running:
        stop_execution(client, execution, f"{round_id} was cancelled at version {version}")
    logger.info(
        "lifecycle stopped: round cancelled",
        extra={"round_id": round_id, "stopped": [str(e.name) for e in running]},
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=start_for_record, processor=processor, context=context
    )
