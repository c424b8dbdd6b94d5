"""The records an on-failure message names, read back from DynamoDB Streams while they are kept.

The message names a range, not the records (`DDBStreamBatchInfo`):

    {"DDBStreamBatchInfo": {"shardId": ..., "startSequenceNumber": ..., "endSequenceNumber": ...,
                            "batchSize": ..., "streamArn": ..., ...}, ...}
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

MAX_EMPTY_PAGES: Final = 5
"""Empty `GetRecords` pages tolerated while reading a range (a shard may need a few)."""


class UnreadableMessageError(ValueError):
    """A queue message that is not a DynamoDB stream's on-failure record."""


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """`DDBStreamBatchInfo`: which records of which stream (and shard) Lambda gave up on."""

    stream_arn: str
    start_sequence_number: str
    end_sequence_number: str
    shard_id: str | None = None
    batch_size: int | None = None

    @classmethod
    def from_message(cls, body: str) -> BatchInfo:
        try:
            info = json.loads(body)["DDBStreamBatchInfo"]
            start, end = str(info["startSequenceNumber"]), str(info["endSequenceNumber"])
            int(start), int(end)  # numeric strings, compared as numbers
            size = info.get("batchSize")
            return cls(
                stream_arn=str(info["streamArn"]),
                start_sequence_number=start,
                end_sequence_number=end,
                shard_id=str(info["shardId"]) if info.get("shardId") else None,
                batch_size=int(size) if size is not None else None,
            )
        except (ValueError, TypeError, KeyError) as error:
            raise UnreadableMessageError(
                f"not a DynamoDB stream on-failure record ({type(error).__name__})"
            ) from error


class StreamRecords(Protocol):
    def stream_ids(self, info: BatchInfo) -> frozenset[str] | None:
        """The event streams of the records in the range, or None when it cannot be read whole."""
        ...


class DynamoDBStreamRecords:
    """Reads a range of stream records back from DynamoDB Streams, while they are kept."""

    def __init__(
        self, client: DynamoDBStreamsClient, *, max_empty_pages: int = MAX_EMPTY_PAGES
    ) -> None:
        self._client = client
        self._max_empty_pages = max_empty_pages

    def stream_ids(self, info: BatchInfo) -> frozenset[str] | None:
        try:
            shards = [info.shard_id] if info.shard_id else self._shards_holding(info)
            for shard_id in shards:
                found = self._read(info, shard_id)
                if found is not None:
                    return found
        except Exception:  # trimmed, expired, a shard or stream gone: the store decides instead
            return None
        return None

    def _shards_holding(self, info: BatchInfo) -> list[str]:
        start = int(info.start_sequence_number)
        shards: list[str] = []
        request: dict[str, Any] = {"StreamArn": info.stream_arn}
        while True:
            description = self._client.describe_stream(**request)["StreamDescription"]
            for shard in description.get("Shards", []):
                numbers = shard.get("SequenceNumberRange", {})
                first = int(numbers.get("StartingSequenceNumber", "0"))
                last = numbers.get("EndingSequenceNumber")
                if first <= start and (last is None or start <= int(last)):
                    shards.append(shard["ShardId"])
            last_shard = description.get("LastEvaluatedShardId")
            if not last_shard:
                return shards
            request["ExclusiveStartShardId"] = last_shard

    def _read(self, info: BatchInfo, shard_id: str) -> frozenset[str] | None:
        start, end = int(info.start_sequence_number), int(info.end_sequence_number)
        iterator: str | None = self._client.get_shard_iterator(
            StreamArn=info.stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info.start_sequence_number,
        )["ShardIterator"]
        found: set[str] = set()
        seen_start = False
        empty = 0
        while iterator and empty <= self._max_empty_pages:
            page = self._client.get_records(ShardIterator=iterator)
            records = page.get("Records", [])
            empty = 0 if records else empty + 1
            for record in records:
                number = int(record["dynamodb"]["SequenceNumber"])
                if number < start:
                    continue
                if number > end:
                    return frozenset(found) if seen_start else None
                seen_start = seen_start or number == start
                image = record["dynamodb"].get("NewImage") or {}
                if "stream_id" in image:
                    found.add(str(image["stream_id"]["S"]))
                if number == end:
                    return frozenset(found) if seen_start else None
            iterator = page.get("NextShardIterator")
        return None  # the end of the range was never reached: not read whole
