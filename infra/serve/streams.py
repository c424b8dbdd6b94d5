"""Feeds the event store's DynamoDB stream to its consumers, as Lambda's event source mapping.

Per consumer: batches of up to 100 records in stream order; `batchItemFailures` resumes from
the first failed record (records before it are done); a batch that keeps failing past the
retry limit goes to the on-failure destination and is skipped, so other records keep flowing
— the same contract as the deployed mapping (`ReportBatchItemFailures`, bounded retries).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from infra.serve.apigw import LambdaContext
from infra.serve.routes import LambdaHandler

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger("programme.streams")

Record = dict[str, Any]
OnFailure = Callable[[str, Sequence[Record]], None]


def lambda_stream_record(record: Record, stream_arn: str) -> Record:
    """A `GetRecords` record in the shape Lambda delivers it."""
    image = dict(record["dynamodb"])
    created = image.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        image["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        **record,
        "dynamodb": image,
        "eventSourceARN": stream_arn,
        "eventVersion": record.get("eventVersion", "1.1"),
        "awsRegion": stream_arn.split(":")[3],
    }


@dataclass
class Consumer:
    name: str
    handler: LambdaHandler
    pending: list[Record] = field(default_factory=list)
    attempts: int = 0


class StreamPump:
    def __init__(
        self,
        client: DynamoDBStreamsClient,
        stream_arn: str,
        consumers: Sequence[tuple[str, LambdaHandler]],
        on_failure: OnFailure,
        *,
        batch_size: int = 100,
        max_retries: int = 5,
    ) -> None:
        self._client = client
        self._arn = stream_arn
        self._consumers = [Consumer(name, handler) for name, handler in consumers]
        self._on_failure = on_failure
        self._batch_size = batch_size
        self._max_retries = max_retries
        self._iterators: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def pump(self) -> int:
        """Fetch what is new and deliver it; returns how many records are still pending."""
        with self._lock:
            fresh = self._fetch()
            for consumer in self._consumers:
                consumer.pending.extend(fresh)
                self._deliver(consumer)
            return sum(len(consumer.pending) for consumer in self._consumers)

    def _fetch(self) -> list[Record]:
        shards = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        fresh: list[Record] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._client.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                page = self._client.get_records(ShardIterator=iterator, Limit=1000)
                records = [lambda_stream_record(dict(r), self._arn) for r in page["Records"]]
                fresh.extend(records)
                iterator = page.get("NextShardIterator")
                self._iterators[shard_id] = iterator
                if not records:
                    break
        return fresh

    def _deliver(self, consumer: Consumer) -> None:
        while consumer.pending:
            batch = consumer.pending[: self._batch_size]
            try:
                response = consumer.handler(
                    {"Records": batch}, LambdaContext(function_name=consumer.name)
                )
                failed = {
                    item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])
                }
            except Exception:
                log.exception("%s failed on a batch of %d records", consumer.name, len(batch))
                failed = {batch[0]["dynamodb"]["SequenceNumber"]}
            first_failed = next(
                (i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), None
            )
            if first_failed is None:
                del consumer.pending[: len(batch)]
                consumer.attempts = 0
                continue
            del consumer.pending[:first_failed]  # those before the first failure are done
            consumer.attempts = consumer.attempts + 1 if first_failed == 0 else 1
            if consumer.attempts <= self._max_retries:
                return  # retried on the next pump, in order
            poisoned = consumer.pending.pop(0)
            consumer.attempts = 0
            log.error(
                "%s gave up on record %s after %d retries: sent to the on-failure queue",
                consumer.name,
                poisoned["dynamodb"]["SequenceNumber"],
                self._max_retries,
            )
            self._on_failure(consumer.name, [poisoned])


class PumpThread(threading.Thread):
    """Pumps the stream every `interval` seconds until stopped."""

    def __init__(self, pump: StreamPump, interval: float = 0.1) -> None:
        super().__init__(name="stream-pump", daemon=True)
        self._pump = pump
        self._interval = interval
        self._stopped = threading.Event()

    def run(self) -> None:
        while not self._stopped.wait(self._interval):
            try:
                self._pump.pump()
            except Exception:
                log.exception("stream pump failed; retrying")

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)
