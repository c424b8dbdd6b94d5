"""The on-failure destinations: what Lambda sends to a queue when it gives up on something.

A stream record past its mapping's retries (`DDBStreamBatchInfo`: which records, not the
records themselves), or an asynchronous invocation past its retries (the error), in the
shape Lambda gives them, so what replays them on AWS can be tried here.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from programme.stack.scheduler import DailyJob
from programme.stack.streams import Consumer

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

log = logging.getLogger("programme.destinations")


class FailureQueues:
    """The on-failure destinations: what Lambda would send to each queue, in its shape."""

    def __init__(self, sqs: SQSClient, queues: dict[str, str]) -> None:
        self._sqs = sqs
        self._queues = queues

    def records_failed(self, consumer: Consumer, records: Sequence[dict[str, Any]]) -> None:
        """Lambda's invocation record for stream records past their retries (AWS's documented
        shape; `shardId` and the arrival times when the records say them)."""
        sequence = [str(r["dynamodb"]["SequenceNumber"]) for r in records]
        batch: dict[str, Any] = {}
        if records[0].get("shardId"):
            batch["shardId"] = records[0]["shardId"]
        batch |= {"startSequenceNumber": sequence[0], "endSequenceNumber": sequence[-1]}
        arrivals = [r["dynamodb"].get("ApproximateCreationDateTime") for r in records]
        if arrivals[0] is not None and arrivals[-1] is not None:
            batch["approximateArrivalOfFirstRecord"] = _arrival(arrivals[0])
            batch["approximateArrivalOfLastRecord"] = _arrival(arrivals[-1])
        batch |= {"batchSize": len(records), "streamArn": records[0].get("eventSourceARN", "")}
        self._send(
            consumer.on_failure,
            {
                "requestContext": {
                    "requestId": str(uuid.uuid4()),
                    "functionArn": consumer.name,
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": consumer.max_retries + 1,
                },
                "responseContext": {
                    "statusCode": 200,
                    "executedVersion": "$LATEST",
                    "functionError": "Unhandled",
                },
                "version": "1.0",
                "timestamp": _timestamp(datetime.now(UTC)),
                "DDBStreamBatchInfo": batch,
            },
        )

    def job_failed(self, job: DailyJob, error: BaseException) -> None:
        self._send(
            job.on_failure,
            {
                "requestContext": {
                    "functionArn": job.function,
                    "condition": "RetriesExhausted",
                    "approximateInvokeCount": job.retries + 1,
                },
                "timestamp": datetime.now(UTC).isoformat(),
                "responsePayload": {"errorType": type(error).__name__, "errorMessage": str(error)},
            },
        )

    def _send(self, queue: str | None, body: dict[str, Any]) -> None:
        if queue is None or queue not in self._queues:
            log.error("no on-failure destination %r: dropped %s", queue, body)
            return
        self._sqs.send_message(QueueUrl=self._queues[queue], MessageBody=json.dumps(body))


def _arrival(created: float | datetime) -> str:
    """A record's `ApproximateCreationDateTime` (epoch seconds, as Lambda delivers it)."""
    at = created if isinstance(created, datetime) else datetime.fromtimestamp(created, UTC)
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _timestamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z"
