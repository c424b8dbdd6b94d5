"""A large state on DynamoDB is kept in parts (`infra.readmodels.checkpoint_item`): a round's
header in the stream's checkpoint item, each agency and pair an item of its own beside it,
an event writing the parts it changed. Whatever the layout, each target reads back the
state it committed, exactly; a rebuild beside the projection, the old layouts and commits
too large for one transaction all come out as a projection in memory does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from infra.eventstore import InMemoryEventStore
from infra.readmodels import (
    VIEWS,
    Checkpoint,
    Commit,
    DynamoDBReadModelStore,
    Projector,
    Target,
    checkpoint_item,
)
from infra.readmodels.dynamodb import checkpoint_partition
from infra.readmodels.packing import pack
from infra.readmodels.rebuild import KnownStreams, Rebuilder
from tests.readmodels.given import projected
from tests.readmodels.scenario import admitted_of, large_round, seed

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

ROUND = "2026-9"
STREAM = f"round-{ROUND}"
AGENCIES = 12
PARTS = AGENCIES + len(admitted_of(AGENCIES)) // 2
"""An item per agency and per pair."""


@pytest.fixture(autouse=True)
def _small_states_in_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """States in parts from 2,000 characters (not 8,000): a 12-agency round's sheet is in
    parts from its sixth agency on, and the tests take seconds, not minutes, under moto."""
    monkeypatch.setattr(checkpoint_item, "SPLIT_ABOVE", 2_000)
    monkeypatch.setattr(checkpoint_item, "JOIN_BELOW", 1_000)


def items(client: DynamoDBClient, table: str, partition: str) -> list[dict[str, Any]]:
    found = client.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": partition}},
        ConsistentRead=True,
    )
    return found["Items"]


def parts(client: DynamoDBClient, table: str) -> list[str]:
    stored = items(client, table, checkpoint_partition(STREAM))
    return [i["sk"]["S"] for i in stored if i["sk"]["S"].startswith(checkpoint_item.PARTS)]


def assert_as_in_memory(store: DynamoDBReadModelStore, events: list[Any]) -> None:
    expected = projected(events)
    for name in VIEWS:
        ours = Target(name, store.active_generation(name))
        assert sorted(store.items(ours)) == sorted(expected.items(Target(name, 1))), name
        theirs = expected.checkpoints(STREAM)[Target(name, 1)]
        assert store.checkpoints(STREAM)[ours] == theirs, name


def test_a_large_rounds_state_is_kept_in_parts_and_reads_back_exactly(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN a round of 12 agencies (its sheet over 2,000 characters from the sixth on)
    table = template_tables["ReadModelTable"]
    store = DynamoDBReadModelStore(dynamodb_client, table, pointer_max_age=0)
    events = large_round(ROUND, AGENCIES)
    # WHEN it is projected event by event
    projector = Projector(VIEWS.values(), store)
    targets = projector.targets()
    for event in events:
        projector.project(event, targets)
    # THEN every view's documents and checkpoint are those of a projection in memory
    assert_as_in_memory(store, events)
    # AND the sheet is kept in parts, an item per agency and pair, beside a small item
    assert len(parts(dynamodb_client, table)) == PARTS
    (item,) = [
        i
        for i in items(dynamodb_client, table, checkpoint_partition(STREAM))
        if i["sk"]["S"] == checkpoint_item.SORT
    ]
    assert checkpoint_item.item_size(item) < 1024


def test_a_state_the_earlier_layout_kept_whole_is_read_and_put_in_parts_by_the_next_commit(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN a large round's checkpoints as the earlier layout kept them: the sheet whole
    table = template_tables["ReadModelTable"]
    events = large_round(ROUND, AGENCIES)
    memory = projected(events[:-1])
    checkpoints = memory.checkpoints(STREAM)
    (sheet,) = {cp.state for cp in checkpoints.values() if cp.state is not None}
    assert sheet is not None
    item: dict[str, Any] = {
        "pk": {"S": checkpoint_partition(STREAM)},
        "sk": {"S": checkpoint_item.SORT},
        "rev": {"N": "7"},
        "s0": {"B": pack(sheet)},
    }
    for target, checkpoint in checkpoints.items():
        ref = "" if checkpoint.state is None else " 0"
        item[f"{target.view}#{target.generation}"] = {"S": f"{checkpoint.version}{ref}"}
    dynamodb_client.put_item(TableName=table, Item=item)
    store = DynamoDBReadModelStore(dynamodb_client, table, pointer_max_age=0)
    # THEN each target reads its checkpoint as it was
    assert store.checkpoints(STREAM) == checkpoints
    # AND WHEN the next event is projected, the state is in parts, as a projection has it
    Projector(VIEWS.values(), store).project(events[-1])
    assert len(parts(dynamodb_client, table)) == PARTS
    assert store.checkpoints(STREAM) == projected(events).checkpoints(STREAM)


def test_a_state_too_large_for_one_transaction_is_written_ahead_under_a_new_reference(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN a state of 150 entries, more parts than one transaction holds, committed at once
    table = template_tables["ReadModelTable"]
    store = DynamoDBReadModelStore(dynamodb_client, table)
    entries = {f"org-{n:03d}": {"status": "applied", "n": n} for n in range(150)}
    assert len(_json(entries)) > 2_000
    state = '{"round_id":"2026-9","agencies":' + _json(entries) + ',"layout":2}'
    target = Target("rounds", 1)
    store.commit([Commit(target, STREAM, 0, Checkpoint(1, state), {})])
    # THEN it reads back whole, from parts under a reference written before the commit
    assert store.checkpoints(STREAM) == {target: Checkpoint(1, state)}
    assert len(parts(dynamodb_client, table)) == 150
    # AND WHEN the next commit changes one entry, it is written in place
    entries["org-007"]["status"] = "admitted"
    changed = '{"round_id":"2026-9","agencies":' + _json(entries) + ',"layout":2}'
    read = store.checkpoints(STREAM)
    store.commit([Commit(target, STREAM, 1, Checkpoint(2, changed), {}, read.basis)])
    assert store.checkpoints(STREAM) == {target: Checkpoint(2, changed)}
    assert len(parts(dynamodb_client, table)) == 150


def test_targets_that_kept_one_state_and_part_ways_each_read_back_their_own(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN two targets keeping one large state (stored once)
    table = template_tables["ReadModelTable"]
    store = DynamoDBReadModelStore(dynamodb_client, table)
    entries = {f"org-{n:03d}": {"status": "applied", "n": n} for n in range(60)}
    first = '{"agencies":' + _json(entries) + "}"
    entries["org-007"]["status"] = "admitted"
    second = '{"agencies":' + _json(entries) + "}"
    a, b = Target("rounds", 1), Target("plans", 1)
    store.commit([Commit(t, STREAM, 0, Checkpoint(1, first), {}) for t in (a, b)])
    assert len(parts(dynamodb_client, table)) == 60
    # WHEN one of them moves on alone, then the other catches up
    read = store.checkpoints(STREAM)
    store.commit([Commit(a, STREAM, 1, Checkpoint(2, second), {}, read.basis)])
    # THEN each reads back its own state, both kept meanwhile
    assert store.checkpoints(STREAM) == {a: Checkpoint(2, second), b: Checkpoint(1, first)}
    assert len(parts(dynamodb_client, table)) == 120
    read = store.checkpoints(STREAM)
    store.commit([Commit(b, STREAM, 1, Checkpoint(2, second), {}, read.basis)])
    # AND once they keep the same state again, it is stored once
    assert store.checkpoints(STREAM) == {a: Checkpoint(2, second), b: Checkpoint(2, second)}
    assert len(parts(dynamodb_client, table)) == 60


def test_parts_no_state_refers_to_are_deleted_by_the_next_commit(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN a large round projected but its last event, and the parts of a commit that failed
    table = template_tables["ReadModelTable"]
    store = DynamoDBReadModelStore(dynamodb_client, table, pointer_max_age=0)
    events = large_round(ROUND, AGENCIES)
    projector = Projector(VIEWS.values(), store)
    for event in events[:-1]:
        projector.project(event)
    for n in range(3):
        dynamodb_client.put_item(
            TableName=table,
            Item={
                "pk": {"S": checkpoint_partition(STREAM)},
                "sk": {"S": f"{checkpoint_item.PARTS}x0badf00d#{n}"},
                "v": {"S": '["agencies","x",{}]'},
            },
        )
    # THEN they do not change what is read (by a store that has not read the stream yet)
    store = DynamoDBReadModelStore(dynamodb_client, table, pointer_max_age=0)
    assert store.checkpoints(STREAM) == projected(events[:-1]).checkpoints(STREAM)
    # AND the next commit deletes them
    Projector(VIEWS.values(), store).project(events[-1])
    assert not [sort for sort in parts(dynamodb_client, table) if "x0badf00d" in sort]
    assert_as_in_memory(store, events)


@pytest.mark.parametrize("flush_items", [90, 7])
def test_a_rebuild_beside_the_projection_keeps_each_generations_state_apart(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str], flush_items: int
) -> None:
    # GIVEN a large round half projected, then a rebuild of every view started
    table = template_tables["ReadModelTable"]
    store = DynamoDBReadModelStore(dynamodb_client, table, pointer_max_age=0)
    events = large_round(ROUND, AGENCIES)
    half = len(events) // 2
    event_store = InMemoryEventStore()
    seed(event_store, events[:half])
    projector = Projector(VIEWS.values(), store)
    for event in events[:half]:
        projector.project(event)
    rebuilder = Rebuilder(
        list(VIEWS.values()), store, KnownStreams(event_store, [STREAM]), flush_items=flush_items
    )
    started = rebuilder.start()
    # WHEN the rebuild replays the stream while the projector goes on with the rest
    rebuilder.replay(started.generations)
    seed(event_store, events[half:])
    for event in events[half:]:
        projector.project(event)
    rebuilder.replay(started.generations)
    previous = rebuilder.switch(started.generations)
    rebuilder.drop(previous.items())
    # THEN the rebuilt generation is a projection of every event, and only its parts are left
    assert_as_in_memory(store, events)
    assert len(parts(dynamodb_client, table)) == PARTS


def _json(value: object) -> str:
    from pydantic_core import to_json

    return to_json(value).decode()
