"""What only the DynamoDB store does: cache the active generation for readers, briefly; keep a
stream's checkpoints in one item, each state once; pack large documents."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from infra.readmodels import (
    Checkpoint,
    CheckpointMovedError,
    Commit,
    DocKey,
    DynamoDBReadModelStore,
    Target,
    checkpoint_item,
)
from infra.readmodels.dynamodb import checkpoint_partition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_readers_keep_the_active_generation_they_read_until_it_is_too_old(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN a reader that looked up the active generation, and a rebuild's store
    clock = Clock()
    table = template_tables["ReadModelTable"]
    reader = DynamoDBReadModelStore(dynamodb_client, table, pointer_max_age=10, clock=clock)
    rebuild = DynamoDBReadModelStore(dynamodb_client, table)
    assert reader.active_generation("rounds") == 1
    # WHEN the rebuild switches readers to generation 2
    generation, _ = rebuild.start_generation("rounds")
    rebuild.switch_generation("rounds", generation)
    # THEN the reader keeps reading 1 while its lookup is fresh, and 2 once it is not
    clock.now += 9.9
    assert reader.active_generation("rounds") == 1
    clock.now += 0.1
    assert reader.active_generation("rounds") == 2
    # AND the store that switched reads the new generation at once
    assert rebuild.active_generation("rounds") == 2


# One checkpoint item per stream

STREAM = "round-2015-3"
SHEET = '{"round_id":"2015-3","agencies":{"202100-5448":{"agency_name":"Skatteverket"}}}'


def commit(target: Target, *, expected: int = 0, state: str | None = SHEET, **kw: Any) -> Commit:
    return Commit(target, STREAM, expected, Checkpoint(expected + 1, state), {}, **kw)


def table_items(client: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    return client.scan(TableName=table, ConsistentRead=True)["Items"]


def test_a_streams_checkpoints_are_one_item_each_state_stored_once(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # WHEN five views commit the same state for a stream, and two commit none
    table = template_tables["ReadModelTable"]
    store = DynamoDBReadModelStore(dynamodb_client, table)
    same = [Target(name, 1) for name in ("rounds", "pairs", "plans", "agencies", "participation")]
    none = [Target("audit", 1), Target("refusals", 1)]
    store.commit([commit(t) for t in same] + [commit(t, state=None) for t in none])
    # THEN the stream has one checkpoint item, holding the state once, packed below a kilobyte
    (item,) = table_items(dynamodb_client, table)
    assert item["sk"] == {"S": checkpoint_item.SORT}
    assert checkpoint_item.states(item) == [SHEET]
    assert checkpoint_item.item_size(item) < 1024
    # AND each target reads back its own checkpoint
    assert store.checkpoints(STREAM) == {
        **{t: Checkpoint(1, SHEET) for t in same},
        **{t: Checkpoint(1, None) for t in none},
    }


def test_a_commit_computed_from_checkpoints_read_before_another_commit_is_refused(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN two writers that read the stream's checkpoints at the same moment
    store = DynamoDBReadModelStore(dynamodb_client, template_tables["ReadModelTable"])
    store.commit([commit(Target("rounds", 1)), commit(Target("rounds", 2))])
    first, second = store.checkpoints(STREAM), store.checkpoints(STREAM)
    # WHEN one commits for one target, the other for another target of the same stream
    store.commit([commit(Target("rounds", 1), expected=1, basis=first.basis)])
    # THEN the second is refused (the item it read is no longer so) and writes nothing
    with pytest.raises(CheckpointMovedError):
        store.commit([commit(Target("rounds", 2), expected=1, basis=second.basis, state="{}")])
    assert store.checkpoints(STREAM)[Target("rounds", 2)] == Checkpoint(1, SHEET)
    # AND computed again from a fresh read, it goes through
    fresh = store.checkpoints(STREAM)
    store.commit([commit(Target("rounds", 2), expected=1, basis=fresh.basis, state="{}")])
    assert store.checkpoints(STREAM) == {
        Target("rounds", 1): Checkpoint(2, SHEET),
        Target("rounds", 2): Checkpoint(2, "{}"),
    }


def test_checkpoints_of_the_old_layout_are_read_and_moved_into_the_streams_item(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN a stream's checkpoints as an earlier version stored them: an item per target
    table = template_tables["ReadModelTable"]
    partition = checkpoint_partition(STREAM)
    for sk, version, state in (("rounds#1", 7, SHEET), ("audit#1", 7, None), ("plans#1", 6, SHEET)):
        item: dict[str, Any] = {
            "pk": {"S": partition},
            "sk": {"S": sk},
            "version": {"N": str(version)},
        }
        if state is not None:
            item["state"] = {"S": state}
        dynamodb_client.put_item(TableName=table, Item=item)
    store = DynamoDBReadModelStore(dynamodb_client, table)
    # THEN they read as they were
    read = store.checkpoints(STREAM)
    assert read == {
        Target("rounds", 1): Checkpoint(7, SHEET),
        Target("audit", 1): Checkpoint(7, None),
        Target("plans", 1): Checkpoint(6, SHEET),
    }
    # WHEN the next event is committed for the view that lagged
    store.commit([commit(Target("plans", 1), expected=6, basis=read.basis)])
    # THEN every checkpoint is in the stream's one item, the old items gone
    (item,) = table_items(dynamodb_client, table)
    assert item["sk"] == {"S": checkpoint_item.SORT}
    assert store.checkpoints(STREAM) == {
        Target("rounds", 1): Checkpoint(7, SHEET),
        Target("audit", 1): Checkpoint(7, None),
        Target("plans", 1): Checkpoint(7, SHEET),
    }


def test_a_document_is_stored_packed_only_when_that_saves_a_kilobyte(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # WHEN a small document and a large one are committed
    table = template_tables["ReadModelTable"]
    store = DynamoDBReadModelStore(dynamodb_client, table)
    small = '{"pair_id":"pair-1","theme":"digitalisering"}'
    pairs = [
        {"pair_id": f"pair-{n}", "agencies": ["Länsstyrelsen i Stockholms län"]} for n in range(60)
    ]
    large = json.dumps({"pairs": pairs}, ensure_ascii=False, separators=(",", ":"))
    writes: dict[DocKey, str | None] = {DocKey("p", "small"): small, DocKey("p", "large"): large}
    store.commit([Commit(Target("pairs", 1), STREAM, 0, Checkpoint(1), writes)])
    # THEN the small one is stored as text, the large one packed into a kilobyte
    stored = {item["sk"]["S"]: item for item in table_items(dynamodb_client, table)}
    assert stored["small"]["doc"] == {"S": small}
    assert "doc" not in stored["large"]
    assert len(large.encode()) > 3 * 1024 > 1024 > checkpoint_item.item_size(stored["large"])
    # AND both read back as written, however read
    target = Target("pairs", 1)
    assert store.document(target, DocKey("p", "large")) == large
    assert dict(store.documents(target, "p")) == {"large": large, "small": small}
    assert sorted(store.items(target)) == sorted(writes.items())
