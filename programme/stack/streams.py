"""Feeds the event store's DynamoDB stream to its consumers, as Lambda's event source mapping.

Per consumer, with the settings of its mapping in `template.yaml`: only the records its
filter lets through; batches of up to `BatchSize` in stream order; `batchItemFailures`
resumes from the first failed record (records before it are done); a batch whose function
raised is split in two and retried (`BisectBatchOnFunctionError`); a record that keeps failing
past `MaximumRetryAttempts` goes to the on-failure destination and is skipped, so the records
after it keep flowing (`ReportBatchItemFailures`, bounded retries, a dead-letter queue).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from programme.stack.apigw import LambdaContext
from programme.stack.routes import LambdaHandler
from programme.template import Template

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

log = logging.getLogger("programme.streams")

Record = dict[str, Any]
OnFailure = Callable[["Consumer", Sequence[Record]], None]

DEFAULT_RETRIES: Final = 10  # Lambda's default is -1 (forever); the template always says
PAGE_LIMIT: Final = 1000


@dataclass(frozen=True, slots=True)
class EventSourceMapping:
    """One DynamoDB event source mapping of the template."""

    function: str
    stream: str  # logical id of the table whose stream feeds it
    batch_size: int = 100
    max_retries: int = DEFAULT_RETRIES
    bisect: bool = False
    patterns: tuple[dict[str, Any], ...] = ()
    on_failure: str | None = None  # logical id of the destination queue


def stream_mappings(template: Template, table: str) -> list[EventSourceMapping]:
    """The DynamoDB event source mappings on `table`'s stream, in template order."""
    found: list[EventSourceMapping] = []
    for logical_id, resource in template.get("Resources", {}).items():
        if resource.get("Type") != "AWS::Serverless::Function":
            continue
        for event in resource.get("Properties", {}).get("Events", {}).values():
            spec = event.get("Properties", {})
            if event.get("Type") != "DynamoDB" or spec.get("Stream") != {
                "Fn::GetAtt": [table, "StreamArn"]
            }:
                continue
            destination = spec.get("DestinationConfig", {}).get("OnFailure", {})
            target = destination.get("Destination", {}).get("Fn::GetAtt", [None])[0]
            filters = spec.get("FilterCriteria", {}).get("Filters", [])
            found.append(
                EventSourceMapping(
                    function=logical_id,
                    stream=table,
                    batch_size=int(spec.get("BatchSize", 100)),
                    max_retries=int(spec.get("MaximumRetryAttempts", DEFAULT_RETRIES)),
                    bisect=bool(spec.get("BisectBatchOnFunctionError", False)),
                    patterns=tuple(_pattern(item["Pattern"]) for item in filters),
                    on_failure=target,
                )
            )
    return found


def _pattern(text: str) -> dict[str, Any]:
    pattern = json.loads(text)
    _check_pattern(pattern)
    return dict(pattern)


def _check_pattern(pattern: Any) -> None:
    """Only exact-value patterns are understood here; anything else would silently mismatch."""
    if isinstance(pattern, dict):
        for value in pattern.values():
            _check_pattern(value)
    elif not (isinstance(pattern, list) and all(isinstance(v, str | int | float) for v in pattern)):
        raise ValueError(f"the local stack understands exact-value filters only, not {pattern!r}")


def matches(pattern: Mapping[str, Any], record: Mapping[str, Any]) -> bool:
    """Lambda's filter criteria, exact values only: each key there, its value one of those given."""
    for key, expected in pattern.items():
        if key not in record:
            return False
        actual = record[key]
        if isinstance(expected, dict):
            if not isinstance(actual, dict) or not matches(expected, actual):
                return False
        elif actual not in expected:
            return False
    return True


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


def sequence_number(record: Record) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


@dataclass
class Consumer:
    name: str
    handler: LambdaHandler
    batch_size: int = 100
    max_retries: int = DEFAULT_RETRIES
    bisect: bool = False
    patterns: tuple[dict[str, Any], ...] = ()
    on_failure: str | None = None
    pending: list[Record] = field(default_factory=list)
    attempts: int = 0
    window: int = 0  # the batch size while bisecting (0: not bisecting)
    bisecting: int = 0  # records of the crashed batch not yet delivered

    @classmethod
    def of(cls, mapping: EventSourceMapping, handler: LambdaHandler) -> Consumer:
        return cls(
            mapping.function,
            handler,
            batch_size=mapping.batch_size,
            max_retries=mapping.max_retries,
            bisect=mapping.bisect,
            patterns=mapping.patterns,
            on_failure=mapping.on_failure,
        )

    def wants(self, record: Record) -> bool:
        return not self.patterns or any(matches(p, record) for p in self.patterns)


class StreamPump:
    def __init__(
        self,
        client: DynamoDBStreamsClient,
        stream_arn: str,
        consumers: Sequence[Consumer],
        on_failure: OnFailure,
    ) -> None:
        self._client = client
        self._arn = stream_arn
        self._consumers = list(consumers)
        self._on_failure = on_failure
        self._iterators: dict[str, str | None] = {}
        self._shards: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def pump(self) -> int:
        """Fetch what is new and deliver it; returns how many records are still pending."""
        with self._lock:
            fresh = self._fetch()
            for consumer in self._consumers:
                consumer.pending.extend(record for record in fresh if consumer.wants(record))
                self._deliver(consumer)
            return sum(len(consumer.pending) for consumer in self._consumers)

    def _fetch(self) -> list[Record]:
        shards = self._client.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        self._shards = [dict(shard) for shard in shards]
        fresh: list[Record] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            if shard_id not in self._iterators:
                self._iterators[shard_id] = self._client.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            iterator = self._iterators[shard_id]
            while iterator:
                page = self._client.get_records(ShardIterator=iterator, Limit=PAGE_LIMIT)
                records = [lambda_stream_record(dict(r), self._arn) for r in page["Records"]]
                fresh.extend(records)
                iterator = page.get("NextShardIterator")
                self._iterators[shard_id] = iterator
                if not records:
                    break
        return fresh

    def _deliver(self, consumer: Consumer) -> None:
        while consumer.pending:
            batch = consumer.pending[: consumer.window or consumer.batch_size]
            try:
                response = consumer.handler(
                    {"Records": batch}, LambdaContext(function_name=consumer.name)
                )
                failed = {
                    item["itemIdentifier"] for item in (response or {}).get("batchItemFailures", [])
                }
            except Exception:
                log.exception("%s failed on a batch of %d records", consumer.name, len(batch))
                if consumer.bisect and len(batch) > 1:
                    consumer.window = max(1, len(batch) // 2)
                    consumer.bisecting = max(consumer.bisecting, len(batch))
                    return  # the first half alone, on the next pump
                failed = {sequence_number(batch[0])}
            first_failed = next(
                (i for i, r in enumerate(batch) if sequence_number(r) in failed), None
            )
            if first_failed is None:
                _through(consumer, len(batch))
                consumer.attempts = 0
                continue
            _through(consumer, first_failed)  # those before the first failure are done
            consumer.attempts = consumer.attempts + 1 if first_failed == 0 else 1
            if consumer.attempts <= consumer.max_retries:
                return  # retried on the next pump, in order
            poisoned = consumer.pending[0]
            _through(consumer, 1)
            consumer.attempts = 0
            log.error(
                "%s gave up on record %s after %d retries: sent to its on-failure destination",
                consumer.name,
                sequence_number(poisoned),
                consumer.max_retries,
            )
            self._on_failure(consumer, [self._located(poisoned)])

    def _located(self, record: Record) -> Record:
        """The record with the `shardId` it was read from, for the on-failure destination."""
        number = int(sequence_number(record))
        for shard in self._shards:
            numbers = shard.get("SequenceNumberRange", {})
            last = numbers.get("EndingSequenceNumber")
            if int(numbers.get("StartingSequenceNumber", 0)) <= number and (
                last is None or number <= int(last)
            ):
                return {**record, "shardId": shard["ShardId"]}
        return record


def _through(consumer: Consumer, count: int) -> None:
    """The first `count` pending records are done with (delivered, or given up on)."""
    del consumer.pending[:count]
    consumer.bisecting = max(0, consumer.bisecting - count)
    if not consumer.bisecting:  # the crashed batch is through: full batches again
        consumer.window = 0


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
        if self.is_alive():
            self.join(timeout=10)
