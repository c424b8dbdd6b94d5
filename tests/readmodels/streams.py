"""The event store's DynamoDB stream as the projector Lambda receives it, read from moto."""

from __future__ import annotations

from typing import Any

import boto3

from infra.eventstore.dynamodb import is_tip
from tests.support.aws import REGION


class StreamTap:
    """Reads a table's stream from its start; each call returns the records since the last."""

    def __init__(self, table_name: str) -> None:
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        self._streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.arn = dynamodb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str] = {}

    def records(self, *, tips: bool = False) -> list[dict[str, Any]]:
        """The records written since the last call, in stream order (one shard in moto).

        Only the events' records, unless `tips`: each append also updates its stream's tip
        (version 0), whose records the projector skips (tests/readmodels/test_projector_function.py
        feeds it those too).
        """
        found: list[dict[str, Any]] = []
        description = self._streams.describe_stream(StreamArn=self.arn)["StreamDescription"]
        for shard in description["Shards"]:
            shard_id = shard["ShardId"]
            iterator = (
                self._iterators.get(shard_id)
                or self._streams.get_shard_iterator(
                    StreamArn=self.arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
                )["ShardIterator"]
            )
            while True:
                page = self._streams.get_records(ShardIterator=iterator)
                found += [dict(record) for record in page["Records"]]
                iterator = page["NextShardIterator"]
                if not page["Records"]:
                    break
            self._iterators[shard_id] = iterator
        return found if tips else [r for r in found if not is_tip(r["dynamodb"]["Keys"])]

    def lambda_event(self, records: list[dict[str, Any]]) -> dict[str, Any]:
        """The records as Lambda's event source mapping delivers them to the function."""
        delivered = []
        for record in records:
            stream_record = dict(record["dynamodb"])
            created = stream_record["ApproximateCreationDateTime"]
            stream_record["ApproximateCreationDateTime"] = int(created.timestamp())
            delivered.append(
                {
                    **record,
                    "dynamodb": stream_record,
                    "eventSourceARN": self.arn,
                    "eventVersion": "1.1",
                    "awsRegion": REGION,  # moto says us-east-1 whatever the table's region
                }
            )
        return {"Records": delivered}


def sequence_numbers(records: list[dict[str, Any]]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in records]


def versions(records: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(stream id, version) of each record, in delivery order."""
    images = [record["dynamodb"]["NewImage"] for record in records]
    return [(image["stream_id"]["S"], int(image["version"]["N"])) for image in images]
