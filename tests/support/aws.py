"""moto fixtures: fake credentials in eu-north-1, a DynamoDB client, tables from the template.

moto's DynamoDB is not safe under threads, and tests that race writers need it to be:
`serialise_moto_dynamodb` applies the local stack's patch (`programme.stack.moto_dynamodb`, which
says why) for the duration of a test.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws
from moto.dynamodb.models.table import Table

from programme.stack.moto_dynamodb import HANDLERS, one_at_a_time
from programme.stack.moto_queries import by_partition
from tests.support.template import create_template_tables

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGION = "eu-north-1"
FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    # botocore >= 1.44 otherwise routes DynamoDB (Streams) calls to account endpoints.
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
}


def serialise_moto_dynamodb(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto's DynamoDB handling one request at a time, as a transaction is isolated in AWS, and
    a table Query reading the partition it names, not the whole table sorted (the local
    stack's `programme.stack.moto_queries`, whose answers equal moto's: without it each test's
    cost grew with everything it wrote). Not the stack's undo log: the fault tests write from
    inside a transaction, which the stack's lock never lets happen."""
    for handler in HANDLERS:
        monkeypatch.setattr(handler, "call_action", one_at_a_time(handler.call_action))
    monkeypatch.setattr(Table, "query", by_partition(Table.__dict__["query"]))


@pytest.fixture
def mocked_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in FAKE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    serialise_moto_dynamodb(monkeypatch)
    with mock_aws():
        yield


@pytest.fixture
def dynamodb_client(mocked_aws: None) -> DynamoDBClient:
    return boto3.client("dynamodb", region_name=REGION)


@pytest.fixture
def template_tables(dynamodb_client: DynamoDBClient) -> dict[str, str]:
    """Every DynamoDB table of `template.yaml`, created in moto: table name by logical id."""
    return create_template_tables(dynamodb_client)


@pytest.fixture
def event_store_table(template_tables: dict[str, str]) -> str:
    return template_tables["EventStoreTable"]
