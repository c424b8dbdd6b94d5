"""The DynamoDB store's reserved items: a tip kept under 1 KB, a large snapshot in its own
item (version -1), loads in one or two requests, and the older layouts still loading."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from infra.eventstore import ConcurrencyError, DynamoDBEventStore, Snapshot
from infra.eventstore.dynamodb import (
    SNAPSHOT_VERSION,
    TIP_BYTES,
    TIP_VERSION,
    _size,
    is_tip,
)
from infra.eventstore.records import MAX_EVENTS_PER_APPEND
from tests.support.new_events import number_of, numbered

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

STREAM = "round-2015-3"
FORMAT = "n/1"
LARGE = bytes(range(256)) * 40  # 10 KB: too large for the tip


def item_at(client: DynamoDBClient, table: str, version: int) -> dict[str, Any] | None:
    found = client.get_item(
        TableName=table,
        Key={"stream_id": {"S": STREAM}, "version": {"N": str(version)}},
        ConsistentRead=True,
    ).get("Item")
    return dict(found) if found is not None else None


def requests_made(client: DynamoDBClient) -> list[dict[str, Any]]:
    """Each operation the client calls from now on, with its parameters."""
    made: list[dict[str, Any]] = []
    client.meta.events.register(
        "provide-client-params.dynamodb.*",
        lambda params, model, **_: made.append({"operation": model.name, **params}),
    )
    return made


@pytest.fixture
def store(dynamodb_client: DynamoDBClient, event_store_table: str) -> DynamoDBEventStore:
    return DynamoDBEventStore(dynamodb_client, event_store_table, page_size=40)


def test_a_small_snapshot_rides_in_the_tip_and_the_tip_stays_under_a_kb(
    store: DynamoDBEventStore, dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # WHEN an append keeps a snapshot of a few hundred bytes
    store.append(STREAM, 0, numbered(2), Snapshot(2, FORMAT, b"s" * 500))
    # THEN it is in the tip, the tip is within its first KB, and there is no snapshot item
    tip = item_at(dynamodb_client, event_store_table, TIP_VERSION)
    assert tip is not None
    assert tip["snapshot"] == {"B": b"s" * 500}
    assert _size(tip) <= TIP_BYTES
    assert item_at(dynamodb_client, event_store_table, SNAPSHOT_VERSION) is None


def test_a_large_snapshot_gets_its_own_item_and_the_tip_keeps_its_head_alone(
    store: DynamoDBEventStore, dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN a small snapshot in the tip
    store.append(STREAM, 0, numbered(2), Snapshot(2, FORMAT, b"small"))
    # WHEN an append keeps a 10 KB one
    store.append(STREAM, 2, numbered(1, start=3), Snapshot(3, FORMAT, LARGE))
    # THEN it is in the snapshot item, and the tip holds its keys and head only
    tip = item_at(dynamodb_client, event_store_table, TIP_VERSION)
    assert tip == {"stream_id": {"S": STREAM}, "version": {"N": "0"}, "head": {"N": "3"}}
    kept = item_at(dynamodb_client, event_store_table, SNAPSHOT_VERSION)
    assert kept is not None
    assert (kept["snapshot"]["B"], kept["snapshot_version"]["N"]) == (LARGE, "3")
    # AND appends without a snapshot write the tip's head alone: the snapshot item stays
    store.append(STREAM, 3, numbered(2, start=4))
    assert item_at(dynamodb_client, event_store_table, SNAPSHOT_VERSION) == kept
    loaded = store.load(STREAM, FORMAT)
    assert loaded.snapshot == Snapshot(3, FORMAT, LARGE)
    assert [number_of(r.event) for r in loaded.events] == [4, 5]
    assert not loaded.snapshot_misplaced


def test_a_load_is_one_query_at_the_head_and_two_behind_it_reading_only_the_tail(
    store: DynamoDBEventStore, dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN 200 events with a large snapshot at 196
    for start in range(1, 197, MAX_EVENTS_PER_APPEND):
        count = min(MAX_EVENTS_PER_APPEND, 196 - start + 1)
        store.append(STREAM, start - 1, numbered(count, start=start))
    store.append(STREAM, 196, numbered(1, start=197), Snapshot(197, FORMAT, LARGE))
    store.append(STREAM, 197, numbered(3, start=198))
    made = requests_made(dynamodb_client)
    # WHEN it is loaded
    loaded = store.load(STREAM, FORMAT)
    # THEN one consistent Query read the tip and the snapshot item, and one the three after
    assert [r["operation"] for r in made] == ["Query", "Query"]
    assert all(r["ConsistentRead"] is True for r in made)
    assert made[1]["ExpressionAttributeValues"][":after"] == {"N": "197"}
    assert (loaded.snapshot, [r.version for r in loaded.events]) == (
        Snapshot(197, FORMAT, LARGE),
        [198, 199, 200],
    )
    # AND at the head it is the first Query alone
    store.append(STREAM, 200, numbered(1, start=201), Snapshot(201, FORMAT, LARGE))
    made.clear()
    assert store.load(STREAM, FORMAT).events == ()
    assert [r["operation"] for r in made] == ["Query"]


def test_the_newer_of_the_tips_snapshot_and_the_snapshot_items_is_loaded(
    store: DynamoDBEventStore,
) -> None:
    # GIVEN a large snapshot at 1 in its item, then a small one at 2 in the tip (a state
    # that shrank), then an event after it
    store.append(STREAM, 0, numbered(1), Snapshot(1, FORMAT, LARGE))
    store.append(STREAM, 1, numbered(1, start=2), Snapshot(2, FORMAT, b"small"))
    store.append(STREAM, 2, numbered(1, start=3))
    # WHEN / THEN the one at 2 is loaded, with the event after it
    loaded = store.load(STREAM, FORMAT)
    assert loaded.snapshot == Snapshot(2, FORMAT, b"small")
    assert [r.version for r in loaded.events] == [3]
    # AND a large one kept next replaces both (the port keeps one snapshot a stream)
    store.append(STREAM, 3, numbered(1, start=4), Snapshot(4, "other/1", LARGE))
    assert store.load(STREAM, "other/1").snapshot == Snapshot(4, "other/1", LARGE)
    assert store.load(STREAM, FORMAT).snapshot is None


def test_a_tip_written_with_a_large_snapshot_in_it_still_loads_and_moves_it_out(
    dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN a stream written by the layout before the snapshot item: a 10 KB snapshot in
    # its tip, rewritten with every append
    before = DynamoDBEventStore(dynamodb_client, event_store_table, snapshots_in_tip=True)
    before.append(STREAM, 0, numbered(3), Snapshot(3, FORMAT, LARGE))
    before.append(STREAM, 3, numbered(1, start=4))
    tip = item_at(dynamodb_client, event_store_table, TIP_VERSION)
    assert tip is not None
    assert tip["snapshot"] == {"B": LARGE}
    assert item_at(dynamodb_client, event_store_table, SNAPSHOT_VERSION) is None
    # WHEN today's store loads it
    store = DynamoDBEventStore(dynamodb_client, event_store_table)
    loaded = store.load(STREAM, FORMAT)
    # THEN its snapshot and the event after it come back, flagged as misplaced
    assert loaded.snapshot == Snapshot(3, FORMAT, LARGE)
    assert [r.version for r in loaded.events] == [4]
    assert loaded.snapshot_misplaced
    # AND an append without a snapshot leaves it where it is, still loading
    store.append(STREAM, 4, numbered(1, start=5))
    assert store.load(STREAM, FORMAT).snapshot == Snapshot(3, FORMAT, LARGE)
    # AND the next append keeping one moves it to the snapshot item: the tip is small again
    store.append(STREAM, 5, numbered(1, start=6), Snapshot(6, FORMAT, LARGE))
    tip = item_at(dynamodb_client, event_store_table, TIP_VERSION)
    assert tip == {"stream_id": {"S": STREAM}, "version": {"N": "0"}, "head": {"N": "6"}}
    loaded = store.load(STREAM, FORMAT)
    assert (loaded.snapshot, loaded.events, loaded.snapshot_misplaced) == (
        Snapshot(6, FORMAT, LARGE),
        (),
        False,
    )
    # AND the layout before reads what today's store wrote, minus the moved snapshot
    assert [r.version for r in before.load(STREAM, FORMAT).events] == [1, 2, 3, 4, 5, 6]


def test_a_stale_append_writes_neither_its_tip_nor_its_snapshot_item(
    store: DynamoDBEventStore, dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    # GIVEN a stream at 2 with a large snapshot
    store.append(STREAM, 0, numbered(2), Snapshot(2, FORMAT, LARGE))
    kept = item_at(dynamodb_client, event_store_table, SNAPSHOT_VERSION)
    # WHEN a stale writer appends expecting 1, with a large snapshot of its own
    with pytest.raises(ConcurrencyError):
        store.append(STREAM, 1, numbered(1, start=9), Snapshot(2, FORMAT, LARGE[::-1]))
    # THEN the snapshot item is as it was
    assert item_at(dynamodb_client, event_store_table, SNAPSHOT_VERSION) == kept


def test_the_largest_append_fits_one_transaction_with_its_tip_and_snapshot_item(
    store: DynamoDBEventStore, dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    made = requests_made(dynamodb_client)
    version = store.append(
        STREAM,
        0,
        numbered(MAX_EVENTS_PER_APPEND),
        Snapshot(MAX_EVENTS_PER_APPEND, FORMAT, LARGE),
    )
    assert version == MAX_EVENTS_PER_APPEND
    [transaction] = [r for r in made if r["operation"] == "TransactWriteItems"]
    assert len(transaction["TransactItems"]) == 100  # DynamoDB's limit
    assert store.load(STREAM, FORMAT).snapshot == Snapshot(version, FORMAT, LARGE)


@pytest.mark.parametrize(
    ("version", "reserved"), [("-1", True), ("0", True), ("1", False), ("12", False)]
)
def test_the_reserved_items_are_told_apart_from_events_by_their_version(
    version: str, reserved: bool
) -> None:
    assert is_tip({"stream_id": {"S": STREAM}, "version": {"N": version}}) is reserved
    assert not is_tip({"stream_id": {"S": STREAM}})


def test_the_snapshot_item_reaches_the_table_stream_as_a_reserved_item(
    store: DynamoDBEventStore, dynamodb_client: DynamoDBClient, event_store_table: str
) -> None:
    import boto3

    from tests.support.aws import REGION

    # GIVEN an append keeping a large snapshot
    store.append(STREAM, 0, numbered(2), Snapshot(2, FORMAT, LARGE))
    # WHEN the table's stream is read
    streams = boto3.client("dynamodbstreams", region_name=REGION)
    arn = dynamodb_client.describe_table(TableName=event_store_table)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]
    iterator = streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    images = [
        r["dynamodb"]["NewImage"] for r in streams.get_records(ShardIterator=iterator)["Records"]
    ]
    # THEN the snapshot item's record is there, skipped as a reserved item with the tip's;
    # what is left is the two events (no `type` either: the lifecycle starter's filter
    # passes none of them)
    versions = sorted(int(image["version"]["N"]) for image in images)
    assert SNAPSHOT_VERSION in versions
    events = [image for image in images if not is_tip(image)]
    assert sorted(int(image["version"]["N"]) for image in events) == [1, 2]
    assert all("type" not in image for image in images if is_tip(image))
