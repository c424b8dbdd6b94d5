"""Starts a round's lifecycle execution once its `RoundScheduled` event is in the event store.

Fed by the event store's DynamoDB stream, so the start follows the durable event (no dual
write: the command only appends). The execution is named after the round, so a record
delivered twice, or a retried batch, finds it started (`ExecutionAlreadyExists`) and counts
as done. A record whose start fails is reported alone (`batchItemFailures`) and retried.
"""

from __future__ import annotations

from typing import Any

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

from events import RoundScheduled
from functions.common import bootstrap
from functions.common.settings import settings
from functions.lifecycle.executions import ExecutionName, start_execution
from infra.eventstore.dynamodb import recorded_event_from_item

logger = Logger()
metrics = Metrics()
processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def start_for_record(record: DynamoDBRecord) -> None:
    raw = record.raw_event.get("dynamodb") or {}
    image = raw.get("NewImage") or {}
    if record.event_name != DynamoDBRecordEventName.INSERT or "type" not in image:
        return
    if image["type"].get("S") != "RoundScheduled":
        return  # the event source's filter lets only these through on AWS; locally, all come
    event = recorded_event_from_item(image).event
    if not isinstance(event, RoundScheduled):
        return
    name = ExecutionName(event.round_id, 1)
    started = start_execution(
        bootstrap.stepfunctions_client(), settings().require("state_machine_arn"), name
    )
    if started:
        metrics.add_metric(name="ExecutionsStarted", unit=MetricUnit.Count, value=1)
    logger.info(
        "lifecycle started" if started else "lifecycle already started",
        extra={"round_id": event.round_id, "execution": str(name)},
    )


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=start_for_record, processor=processor, context=context
    )
