"""What only the DynamoDB store has: its item layout, paging, old items, errors, the stream."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from events import AgencyApplied, event_to_json
from infra.eventstore import ConcurrencyError, DynamoDBEventStore, Snapshot
from infra.eventstore.dynamodb import is_tip, recorded_event_from_item, to_item
from infra.eventstore.records import encode
from tests.support.aws import REGION
from tests.support.event_examples import EXAMPLES
from tests.support.new_events import metadata, new_event, number_of, numbered

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STREAM = "round-2015-3"


def test_an_event_is_one_item_with_its_payload_as_compact_json_and_its_envelope(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN an application (with Swedish text in it)
    store = DynamoDBEventStore(dynamodb_client, event_store_table)
    applied = EXAMPLES["AgencyApplied"].model_copy(
        update={"agency_name": "Länsstyrelsen i Stockholms län"}
    )
    # WHEN it is appended
    store.append(STREAM, 0, [new_event(applied, 1)])
    # THEN its item holds the keys, type, version, compact JSON payload and ISO-8601 UTC times
    item = dynamodb_client.get_item(
        TableName=event_store_table,
        Key={"stream_id": {"S": STREAM}, "version": {"N": "1"}},
        ConsistentRead=True,
    )["Item"]
    assert item == {
        "stream_id": {"S": STREAM},
        "version": {"N": "1"},
        "type": {"S": "AgencyApplied"},
        "schema_version": {"N": "3"},
        "payload": {
            "S": json.dumps(event_to_json(applied), separators=(",", ":"), ensure_ascii=False)
        },
        "event_id": {"S": "evt-1"},
        "occurred_at": {"S": "2015-03-02T09:01:00.000000Z"},
        "recorded_at": {"S": "2015-03-02T09:01:00.000250Z"},
        "correlation_id": {"S": "corr-1"},
        "causation_id": {"S": "cause-1"},
        "actor": {"S": "staff:handläggare"},
    }
    assert "Länsstyrelsen i Stockholms län" in item["payload"]["S"]


def test_an_item_of_an_old_schema_version_is_upcast_when_read(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN an AgencyApplied v1 item (one `theme`), as an older release stored it
    current = event_to_json(EXAMPLES["AgencyApplied"])
    v1 = {k: v for k, v in current.items() if k not in {"themes", "unsealed_motivation"}} | {
        "schema_version": 1,
        "theme": "digitalisering",
        "motivation": "Vi vill stärka vi-känslan.",
    }
    item = {
        "stream_id": {"S": STREAM},
        "version": {"N": "1"},
        "type": {"S": "AgencyApplied"},
        "schema_version": {"N": "1"},
        "payload": {"S": json.dumps(v1)},
    } | {name: {"S": value} for name, value in metadata(1).model_dump(mode="json").items()}
    dynamodb_client.put_item(TableName=event_store_table, Item=item)
    # WHEN it is read
    [recorded] = DynamoDBEventStore(dynamodb_client, event_store_table).read(STREAM)
    # THEN it arrives as the current version, its theme now a list of themes
    assert isinstance(recorded.event, AgencyApplied)
    assert recorded.event.schema_version == 3
    assert recorded.event.themes == ("digitalisering",)
    assert recorded.event.unsealed_motivation == "Vi vill stärka vi-känslan."
    assert recorded.metadata == metadata(1)


def test_a_read_follows_pages_of_the_configured_size(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN 20 events, and a store that reads pages of 7
    store = DynamoDBEventStore(dynamodb_client, event_store_table, page_size=7)
    store.append(STREAM, 0, numbered(20))
    queries: list[dict[str, object]] = []
    dynamodb_client.meta.events.register(
        "before-parameter-build.dynamodb.Query", lambda params, **_: queries.append(params)
    )
    # WHEN the stream is read
    versions = [r.version for r in store.read(STREAM)]
    # THEN three consistent queries of 7 fetched all of them
    assert versions == list(range(1, 21))
    assert len(queries) == 3
    assert all(q["Limit"] == 7 and q["ConsistentRead"] is True for q in queries)


def test_a_read_is_lazy_and_fetches_a_page_only_when_it_is_reached(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN 20 events in pages of 7
    store = DynamoDBEventStore(dynamodb_client, event_store_table, page_size=7)
    store.append(STREAM, 0, numbered(20))
    queries: list[object] = []
    dynamodb_client.meta.events.register(
        "before-parameter-build.dynamodb.Query", lambda params, **_: queries.append(params)
    )
    # WHEN only the first event is taken
    first = next(store.read(STREAM))
    # THEN one page was fetched
    assert first.version == 1
    assert len(queries) == 1


@pytest.mark.parametrize("reason", ["TransactionConflict", "ConditionalCheckFailed"])
def test_a_cancelled_transaction_over_a_conflict_is_a_concurrency_error(reason: str) -> None:
    # GIVEN DynamoDB cancelling the append for a conflict, with the stream then at version 3
    client = boto3.client("dynamodb", region_name=REGION)
    with Stubber(client) as aws:
        aws.add_client_error(
            "transact_write_items",
            service_error_code="TransactionCanceledException",
            modeled_fields={"CancellationReasons": [{"Code": "None"}, {"Code": reason}]},
        )
        aws.add_response("query", {"Items": [{"version": {"N": "3"}}]})
        # WHEN / THEN
        with pytest.raises(ConcurrencyError) as conflict:
            DynamoDBEventStore(client, "events").append(STREAM, 1, numbered(1, start=2))
    assert (conflict.value.expected, conflict.value.actual) == (1, 3)
    assert isinstance(conflict.value.__cause__, ClientError)


@pytest.mark.parametrize(
    ("code", "fields"),
    [
        ("TransactionCanceledException", {"CancellationReasons": [{"Code": "ValidationError"}]}),
        ("ThrottlingException", {}),
    ],
)
def test_other_failures_of_an_append_are_not_disguised_as_conflicts(
    code: str, fields: dict[str, object]
) -> None:
    # GIVEN DynamoDB failing the append for a reason that is not a conflict
    client = boto3.client("dynamodb", region_name=REGION)
    with Stubber(client) as aws:
        aws.add_client_error("transact_write_items", service_error_code=code, modeled_fields=fields)
        # WHEN / THEN the client's error reaches the caller as it is
        with pytest.raises(ClientError) as failed:
            DynamoDBEventStore(client, "events").append(STREAM, 0, numbered(1))
    assert failed.value.response["Error"]["Code"] == code


def test_the_table_stream_carries_each_event_as_it_reads_from_the_store(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN two events appended to the table built from the template
    store = DynamoDBEventStore(dynamodb_client, event_store_table)
    store.append(
        STREAM,
        0,
        [new_event(EXAMPLES["RoundScheduled"], 1), new_event(EXAMPLES["AgencyApplied"], 2)],
    )
    # WHEN the table's stream is read from its start
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = dynamodb_client.describe_table(TableName=event_store_table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    # THEN each event's new image decodes to the same recorded event a read gives
    events = [r for r in records if not is_tip(r["dynamodb"]["NewImage"])]
    images = [recorded_event_from_item(r["dynamodb"]["NewImage"]) for r in events]
    assert images == list(store.read(STREAM))
    assert {r["eventName"] for r in events} == {"INSERT"}
    # AND the stream's tip, written in the same transaction, is told apart by its version 0
    # (moto records an update that creates an item twice, first with its keys alone)
    tips = [r["dynamodb"]["NewImage"] for r in records if is_tip(r["dynamodb"]["NewImage"])]
    assert tips[-1]["head"] == {"N": "2"}


def requests_made(client: DynamoDBClient) -> list[str]:
    """The names of the operations the client calls from now on."""
    made: list[str] = []
    client.meta.events.register(
        "before-call.dynamodb.*", lambda model, **_: made.append(model.name)
    )
    return made


def test_a_stream_whose_snapshot_is_at_its_head_loads_with_one_read_however_long(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN a stream of 300 events whose last append kept a snapshot
    store = DynamoDBEventStore(dynamodb_client, event_store_table, page_size=40)
    for start in range(1, 300, 98):
        count = min(98, 300 - start + 1)
        snapshot = Snapshot(start + count - 1, "n/1", b"state")
        store.append(STREAM, start - 1, numbered(count, start=start), snapshot)
    made = requests_made(dynamodb_client)
    # WHEN it is loaded, and one more event appended
    loaded = store.load(STREAM, "n/1")
    store.append(STREAM, loaded.version, numbered(1, start=301), Snapshot(301, "n/1", b"s"))
    # THEN that took one read (the reserved items) and one write (a transaction), not seven
    # pages
    assert made == ["Query", "TransactWriteItems"]
    assert (loaded.version, loaded.events) == (300, ())


def test_a_stream_stored_before_tips_existed_gets_its_tip_on_its_next_append(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN two events stored as items alone, with no tip, as the store once wrote them
    for event in numbered(2):
        dynamodb_client.put_item(
            TableName=event_store_table,
            Item=to_item(encode(STREAM, number_of(event.event), event)),
        )
    store = DynamoDBEventStore(dynamodb_client, event_store_table)
    # WHEN one is appended at its version, and another stale writer tries at a gap
    assert store.append(STREAM, 2, numbered(1, start=3)) == 3
    with pytest.raises(ConcurrencyError) as conflict:
        store.append(STREAM, 5, numbered(1, start=6))
    # THEN the stream reads whole and in order, its tip at its head, and the gap unwritten
    assert [r.version for r in store.read(STREAM)] == [1, 2, 3]
    assert conflict.value.actual == 3
    tip = dynamodb_client.get_item(
        TableName=event_store_table,
        Key={"stream_id": {"S": STREAM}, "version": {"N": "0"}},
        ConsistentRead=True,
    )["Item"]
    assert tip["head"] == {"N": "3"}


def test_a_tipless_stream_expected_ahead_of_its_last_event_conflicts(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN one event stored alone, with no tip
    [event] = numbered(1)
    dynamodb_client.put_item(TableName=event_store_table, Item=to_item(encode(STREAM, 1, event)))
    store = DynamoDBEventStore(dynamodb_client, event_store_table)
    # WHEN an append expects version 2 / THEN it conflicts and leaves no gap, and no tip
    with pytest.raises(ConcurrencyError):
        store.append(STREAM, 2, numbered(1, start=3))
    assert store.last_version(STREAM) == 1
    assert "Item" not in dynamodb_client.get_item(
        TableName=event_store_table, Key={"stream_id": {"S": STREAM}, "version": {"N": "0"}}
    )
