"""The local stack's table Query (`programme.stack.moto_queries`) reads the partition it names,
and answers exactly what moto's own Query answers: items, order, paging, counts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from programme.stack.moto_queries import query_by_partition
from tests.support.aws import FAKE_ENVIRONMENT, REGION

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

MOTOS_OWN = Table.__dict__["query"]

QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "p-3"}}},
    {
        "KeyConditionExpression": "pk = :p",
        "ExpressionAttributeValues": {":p": {"S": "p-3"}},
        "ScanIndexForward": False,
        "Limit": 4,
    },
    {
        "KeyConditionExpression": "pk = :p AND sk > :s",
        "ExpressionAttributeValues": {":p": {"S": "p-1"}, ":s": {"N": "7"}},
        "ConsistentRead": True,
    },
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "FilterExpression": "odd = :t",
        "ProjectionExpression": "pk, sk",
        "ExpressionAttributeValues": {
            ":p": {"S": "p-2"},
            ":a": {"N": "2"},
            ":b": {"N": "15"},
            ":t": {"BOOL": True},
        },
    },
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "none"}}},
    {
        "IndexName": "by-odd",
        "KeyConditionExpression": "odd_s = :o",
        "ExpressionAttributeValues": {":o": {"S": "yes"}},
    },
]


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    for name, value in FAKE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName="Docs",
            KeySchema=[
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "N"},
                {"AttributeName": "odd_s", "AttributeType": "S"},
            ],
            GlobalSecondaryIndexes=[
                {
                    "IndexName": "by-odd",
                    "KeySchema": [{"AttributeName": "odd_s", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        dynamodb.create_table(
            TableName="Flat",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        for p in range(5):
            for s in reversed(range(20)):  # stored out of order
                item: dict[str, Any] = {
                    "pk": {"S": f"p-{p}"},
                    "sk": {"N": str(s)},
                    "odd": {"BOOL": s % 2 == 1},
                    "pad": {"S": "x" * 60_000},  # pages of about 16 items (1 MB)
                }
                if s % 2:
                    item["odd_s"] = {"S": "yes"}
                dynamodb.put_item(TableName="Docs", Item=item)
            dynamodb.put_item(TableName="Flat", Item={"pk": {"S": f"p-{p}"}, "n": {"N": str(p)}})
        yield dynamodb


def every_page(client: DynamoDBClient, table: str, query: dict[str, Any]) -> list[Any]:
    pages, request = [], {"TableName": table, **query}
    while True:
        page: dict[str, Any] = dict(client.query(**request))
        page.pop("ResponseMetadata")
        pages.append(page)
        if "LastEvaluatedKey" not in page:
            return pages
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def answers(client: DynamoDBClient) -> list[Any]:
    flat = [
        {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": p}}}
        for p in ("p-4", "none")
    ]
    return [every_page(client, "Docs", query) for query in QUERIES] + [
        every_page(client, "Flat", query) for query in flat
    ]


def test_a_table_query_answers_what_motos_own_answers(client: DynamoDBClient) -> None:
    own = answers(client)
    undo = query_by_partition()
    try:
        assert Table.__dict__["query"] is not MOTOS_OWN
        partitioned = answers(client)
    finally:
        undo()
    assert Table.__dict__["query"] is MOTOS_OWN
    assert partitioned == own
    assert [len(pages) for pages in own][:2] == [2, 5]  # paged by size (1 MB), by Limit
    assert sum(len(page["Items"]) for page in own[0]) == 20
    assert [int(item["sk"]["N"]) for item in own[1][0]["Items"]] == [19, 18, 17, 16]


def test_the_partition_is_read_without_listing_the_table(
    client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def listed(_: Table) -> list[Any]:
        raise AssertionError("the whole table was listed")

    undo = query_by_partition()
    try:
        monkeypatch.setattr(Table, "all_items", listed)
        page = client.query(TableName="Docs", **QUERIES[0])
    finally:
        undo()
    assert page["Count"] == 16  # the first page of 20 items of 60 KB
