"""The event store's DynamoDB stream, read from moto and shaped as Lambda delivers it."""

from __future__ import annotations

import base64
from typing import Any

import boto3

from tests.support.aws import REGION


def stream_batch(table_name: str) -> dict[str, Any]:
    """Every record of the table's stream so far, as one event-source-mapping batch."""
    arn = boto3.client("dynamodb", region_name=REGION).describe_table(TableName=table_name)[
        "Table"
    ]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    records: list[Any] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator)
            records += page["Records"]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return {"Records": [_as_delivered(record, arn) for record in records]}


def _as_delivered(record: dict[str, Any], arn: str) -> dict[str, Any]:
    change = {key: _base64_binaries(value) for key, value in record["dynamodb"].items()}
    change["ApproximateCreationDateTime"] = int(change["ApproximateCreationDateTime"].timestamp())
    return {
        **record,
        "dynamodb": change,
        "eventSourceARN": arn,
        "eventVersion": "1.1",
        "awsRegion": REGION,  # moto says us-east-1 whatever the table's region
    }


def _base64_binaries(value: Any) -> Any:
    """Binary attributes (a stream tip's snapshot) as Lambda's JSON carries them: base64."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict):
        return {key: _base64_binaries(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_base64_binaries(item) for item in value]
    return value
