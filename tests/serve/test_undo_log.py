"""The local stack's TransactWriteItems rollback (`programme.stack.undo_log`): an undo log of the
items a transaction writes, in place of moto's deep copy of every table it names.

A cancelled transaction leaves every table, item and stream record exactly as before, the live
table objects and stream shards in place; a committed one leaves the same items and stream
records as moto's own path.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import DynamoDBBackend, dynamodb_backends

from programme.stack.moto_dynamodb import serialise_moto_dynamodb
from tests.support.aws import FAKE_ENVIRONMENT, REGION

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

EVENTS = "Events"  # hash and range key, like the event store
KEYS = "Keys"  # hash key only, like the subject keys
MOTOS_OWN = DynamoDBBackend.__dict__["transact_write_items"]


def backend() -> DynamoDBBackend:
    found: DynamoDBBackend = dynamodb_backends[DEFAULT_ACCOUNT_ID][REGION]
    return found


def create_tables(client: DynamoDBClient) -> None:
    stream: Any = {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    client.create_table(
        TableName=EVENTS,
        KeySchema=[
            {"AttributeName": "stream_id", "KeyType": "HASH"},
            {"AttributeName": "version", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "stream_id", "AttributeType": "S"},
            {"AttributeName": "version", "AttributeType": "N"},
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=stream,
    )
    client.create_table(
        TableName=KEYS,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification=stream,
    )


def event(stream: str, version: int, **attributes: str) -> dict[str, Any]:
    return {
        "stream_id": {"S": stream},
        "version": {"N": str(version)},
        **{name: {"S": value} for name, value in attributes.items()},
    }


def given(client: DynamoDBClient) -> None:
    """Two streams with a head each (version 0), and two keys."""
    for stream in ("round-1", "round-2"):
        client.put_item(TableName=EVENTS, Item=event(stream, 0, head="1", snapshot="s1"))
        client.put_item(TableName=EVENTS, Item=event(stream, 1, type="RoundScheduled"))
    client.put_item(TableName=KEYS, Item={"id": {"S": "k1"}, "material": {"S": "m1"}})
    client.put_item(TableName=KEYS, Item={"id": {"S": "k2"}, "material": {"S": "m2"}})


def transaction(last_holds: bool) -> list[dict[str, Any]]:
    """Every kind of write, in both tables, new and existing items and partitions; then a
    condition check that holds or fails, last."""
    versions = {":v": {"S": "1"}, ":n": {"S": "2"}, ":s": {"S": "s2"}}
    return [
        {
            "Put": {
                "TableName": EVENTS,
                "Item": event("round-1", 2, type="AgencyApplied"),
                "ConditionExpression": "attribute_not_exists(stream_id)",
            }
        },
        {
            "Update": {
                "TableName": EVENTS,
                "Key": {"stream_id": {"S": "round-1"}, "version": {"N": "0"}},
                "UpdateExpression": "SET head = :n, #s = :s",
                "ConditionExpression": "head = :v",
                "ExpressionAttributeNames": {"#s": "snapshot"},
                "ExpressionAttributeValues": versions,
            }
        },
        {"Put": {"TableName": EVENTS, "Item": event("round-3", 0, head="1", snapshot="s1")}},
        {
            "Update": {  # creates its item
                "TableName": EVENTS,
                "Key": {"stream_id": {"S": "round-4"}, "version": {"N": "0"}},
                "UpdateExpression": "SET head = :n",
                "ExpressionAttributeValues": {":n": {"S": "1"}},
            }
        },
        {
            "Delete": {
                "TableName": EVENTS,
                "Key": {"stream_id": {"S": "round-2"}, "version": {"N": "1"}},
            }
        },
        {"Put": {"TableName": KEYS, "Item": {"id": {"S": "k3"}, "material": {"S": "m3"}}}},
        {
            "Update": {
                "TableName": KEYS,
                "Key": {"id": {"S": "k1"}},
                "UpdateExpression": "SET material = :m",
                "ExpressionAttributeValues": {":m": {"S": "erased"}},
            }
        },
        {"Delete": {"TableName": KEYS, "Key": {"id": {"S": "k2"}}}},
        {
            "ConditionCheck": {
                "TableName": EVENTS,
                "Key": {"stream_id": {"S": "round-2"}, "version": {"N": "0"}},
                "ConditionExpression": "attribute_exists(head)"
                if last_holds
                else "attribute_not_exists(head)",
            }
        },
    ]


def state() -> dict[str, Any]:
    """Every table's items and stream records, as plain data (record ids, times left out)."""
    tables: dict[str, Any] = {}
    for name, table in backend().tables.items():
        items = sorted(
            (item.to_json()["Attributes"] for item in table.all_items()),
            key=lambda item: repr(sorted(item.items())),
        )
        records = []
        for record in table.stream_shard.items if table.stream_shard else []:
            body = dict(record.record)
            body.pop("eventID")
            # moto's SizeBytes is the length of the record's JSON, its creation time included
            body["dynamodb"] = {
                k: v
                for k, v in body["dynamodb"].items()
                if k not in ("ApproximateCreationDateTime", "SizeBytes")
            }
            records.append(body)
        tables[name] = {"items": items, "records": records}
    return tables


def partitions() -> dict[str, list[str]]:
    """Which partitions each table's storage holds (an emptied one included)."""
    return {name: sorted(str(h) for h in table.items) for name, table in backend().tables.items()}


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[bool], DynamoDBClient]]:
    """`aws(undo_logged)`: a fresh moto with the two tables given, its rollback either moto's
    own or the local stack's undo log."""
    for name, value in FAKE_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    undo: list[Callable[[], None]] = []
    mocks: list[Any] = []

    def start(undo_log: bool) -> DynamoDBClient:
        while mocks:
            mocks.pop().stop()
        while undo:
            undo.pop()()
        if undo_log:
            undo.append(serialise_moto_dynamodb())
        mock = mock_aws()
        mock.start()
        mocks.append(mock)
        client = boto3.client("dynamodb", region_name=REGION)
        create_tables(client)
        given(client)
        return client

    yield start
    while mocks:
        mocks.pop().stop()
    while undo:
        undo.pop()()
    assert DynamoDBBackend.__dict__["transact_write_items"] is MOTOS_OWN


def cancelled(client: DynamoDBClient, items: list[dict[str, Any]]) -> ClientError:
    with pytest.raises(ClientError) as raised:
        client.transact_write_items(TransactItems=items)  # type: ignore[arg-type]
    return raised.value


def test_the_undo_log_is_what_the_local_stack_installs() -> None:
    undo = serialise_moto_dynamodb()
    try:
        installed = DynamoDBBackend.__dict__["transact_write_items"]
        assert installed.__wrapped__ is MOTOS_OWN
    finally:
        undo()
    assert DynamoDBBackend.__dict__["transact_write_items"] is MOTOS_OWN


def test_a_failing_last_condition_changes_nothing_not_even_the_stream(
    aws: Callable[[bool], DynamoDBClient],
) -> None:
    client = aws(True)
    tables = dict(backend().tables)
    shards = {name: table.stream_shard for name, table in tables.items()}
    before, storage = state(), partitions()

    error = cancelled(client, transaction(last_holds=False))

    assert error.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in error.response["CancellationReasons"]]
    assert reasons == ["None"] * 8 + ["ConditionalCheckFailed"]
    assert state() == before
    assert partitions() == storage  # no partition left behind, not even an empty one
    assert backend().tables == tables  # the same table objects, not copies
    assert {name: t.stream_shard for name, t in backend().tables.items()} == shards
    # and the tables go on working, their stream with them
    client.put_item(TableName=KEYS, Item={"id": {"S": "k9"}})
    assert state()[KEYS]["records"][-1]["eventName"] == "INSERT"
    assert len(state()[KEYS]["records"]) == len(before[KEYS]["records"]) + 1


def test_a_failure_in_the_middle_and_a_refused_transaction_change_nothing(
    aws: Callable[[bool], DynamoDBClient],
) -> None:
    client = aws(True)
    before = state()
    items = transaction(last_holds=True)
    items[1]["Update"]["ExpressionAttributeValues"][":v"] = {"S": "stale"}  # a lost race
    error = cancelled(client, items)
    reasons = [r["Code"] for r in error.response["CancellationReasons"]]
    assert reasons[1] == "ConditionalCheckFailed"
    assert state() == before
    twice = [*transaction(last_holds=True)[:3], transaction(last_holds=True)[0]]  # same key twice
    assert cancelled(client, twice).response["Error"]["Code"] == "ValidationException"
    assert state() == before


@pytest.mark.parametrize("last_holds", [True, False])
def test_the_undo_log_leaves_what_motos_own_path_leaves(
    aws: Callable[[bool], DynamoDBClient], last_holds: bool
) -> None:
    outcomes = []
    for undo_log in (False, True):
        client = aws(undo_log)
        try:
            client.transact_write_items(TransactItems=transaction(last_holds))  # type: ignore[arg-type]
            answer = "committed"
        except ClientError as error:
            answer = str(error.response.get("CancellationReasons"))
        outcomes.append((answer, state()))
    assert outcomes[0] == outcomes[1]
    if last_holds:  # it did write: one record per write (moto's update of a new item: two)
        answer, after = outcomes[1]
        assert answer == "committed"
        assert len(after[EVENTS]["records"]) == 4 + 6
        assert len(after[KEYS]["records"]) == 2 + 3


def test_a_write_it_cannot_locate_takes_motos_own_path(
    aws: Callable[[bool], DynamoDBClient],
) -> None:
    client = aws(True)
    before = state()
    unlocated = {
        "Update": {
            "TableName": KEYS,
            "Key": {"other": {"S": "k1"}},
            "UpdateExpression": "SET material = :m",
            "ExpressionAttributeValues": {":m": {"S": "x"}},
        }
    }
    cancelled(client, [*transaction(last_holds=True)[:2], unlocated])
    assert state() == before
