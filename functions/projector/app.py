"""Lambda entry point of the projector: DynamoDB stream records of the event store → read models.

Each record's new image is decoded with the event store's own decoder and applied to every
view (its active generation and, during a rebuild, the one being built). Failures are
reported per record (`batchItemFailures`) so Lambda retries from the first of them; a gap
(an event ahead of its predecessor) fails the same way, to be retried in order. Records
after a failed one *of the same stream* fail unprocessed, so a stream is never applied out
of order; other streams keep flowing. Logs carry ids and versions, never payloads.
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

from functions.common import bootstrap
from infra.eventstore.dynamodb import is_tip, recorded_event_from_item
from infra.readmodels import VIEWS, ProjectionTarget, Projector, StreamGapError, ViewFailedError

logger = Logger()
metrics = Metrics()
# Every failure is reported per record, even when all of a batch's records fail: a batch
# that only waits for an earlier record is not a function error (no bisecting, no alarm).
processor = BatchProcessor(
    event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
)


class EarlierRecordFailedError(Exception):
    """An earlier record of the same stream failed in this batch: this one waits for it."""


class StreamBatch:
    """The records of one invocation, applied in order; a failed stream stays failed."""

    def __init__(self, projector: Projector) -> None:
        self._projector = projector
        self._targets: list[ProjectionTarget] | None = None
        self._failed: set[str] = set()

    def __call__(self, record: DynamoDBRecord) -> None:
        raw = record.raw_event.get("dynamodb") or {}
        image = raw.get("NewImage")
        if not image or is_tip(image):
            return  # a stream's tip (its head and snapshot) changes with every append
        if record.event_name != DynamoDBRecordEventName.INSERT:
            # The event store only ever inserts events; anything else is not one to project.
            logger.warning("record skipped", extra={"event_name": str(record.event_name)})
            return
        stream_id = str(image["stream_id"]["S"])
        where = {"stream_id": stream_id, "version": image.get("version", {}).get("N")}
        if stream_id in self._failed:
            metrics.add_metric(name="RecordsHeldBack", unit=MetricUnit.Count, value=1)
            raise EarlierRecordFailedError(f"an earlier record of {stream_id!r} failed")
        try:
            recorded = recorded_event_from_item(image)
            outcome = self._projector.project(recorded, self._ensure_targets())
        except StreamGapError as gap:
            self._failed.add(stream_id)
            metrics.add_metric(name="StreamGaps", unit=MetricUnit.Count, value=1)
            logger.info("event waits for its predecessor", extra={**where, "behind": gap.behind})
            raise
        except Exception as error:
            self._failed.add(stream_id)
            metrics.add_metric(name="ProjectionFailures", unit=MetricUnit.Count, value=1)
            # The type only: a decoding error's message can quote the payload it choked on.
            cause = error.__cause__ if isinstance(error, ViewFailedError) else error
            failure = {"error": type(error).__name__, "cause": type(cause).__name__}
            logger.error("projection failed", extra={**where, **failure})
            raise
        metrics.add_metric(name="EventsProjected", unit=MetricUnit.Count, value=1)
        if outcome.repeats:
            metrics.add_metric(name="RepeatsIgnored", unit=MetricUnit.Count, value=outcome.repeats)

    def _ensure_targets(self) -> list[ProjectionTarget]:
        # Read once per batch: a rebuild that starts is fed from the next batch on.
        if self._targets is None:
            self._targets = self._projector.targets()
        return self._targets


@logger.inject_lambda_context
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    batch = StreamBatch(Projector(VIEWS.values(), bootstrap.read_models()))
    return process_partial_response(
        event=event, record_handler=batch, processor=processor, context=context
    )
