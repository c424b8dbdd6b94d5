"""The DynamoDB read-model store, on the generic `ReadModelTable` (pk, sk strings).

Items:
- a document: pk `<view>#<generation>#<partition>`, sk `<sort>`, `doc` (JSON text);
- a checkpoint: pk `cp#<digest of the stream id>`, sk `<view>#<generation>`, `version` (N),
  `state` (JSON text, when the view keeps one) — every checkpoint of a stream is one Query.
  A digest, because a stream id may name a person's subject (`subject-<id>`);
- a view's generations: pk `generations`, sk `<view>`, `active`, `building`, `revision` (N).

A commit is one TransactWriteItems: the checkpoint Put is conditional on the version it was
computed from, so two projectors racing on one event cannot both apply it.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from infra.readmodels.documents import DocKey
from infra.readmodels.store import (
    MAX_COMMIT_BYTES,
    MAX_COMMIT_ITEMS,
    Checkpoint,
    CheckpointMovedError,
    Commit,
    GenerationChangedError,
    Generations,
    Target,
    check_commit,
)

if TYPE_CHECKING:  # the stubs are a development dependency only
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        QueryInputTypeDef,
        ScanInputTypeDef,
        TransactWriteItemTypeDef,
    )

Item = Mapping[str, Any]
GENERATIONS: Final = "generations"
_CONFLICT_REASONS: Final = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_BATCH_WRITE: Final = 25


def document_pk(target: Target, partition: str) -> str:
    return f"{target.view}#{target.generation}#{partition}"


def checkpoint_partition(stream_id: str) -> str:
    """Where a stream's checkpoints live: a digest, so no stream id (nor subject id) is stored."""
    return "cp#" + hashlib.blake2b(stream_id.encode(), digest_size=16).hexdigest()


def checkpoint_key(stream_id: str, target: Target) -> dict[str, AttributeValueTypeDef]:
    return {
        "pk": {"S": checkpoint_partition(stream_id)},
        "sk": {"S": f"{target.view}#{target.generation}"},
    }


class DynamoDBReadModelStore:
    """A `ReadModelStore` over one DynamoDB table; the client is passed in, never created here.

    `active_generation` is cached for `pointer_max_age` seconds, so a query is one call to
    DynamoDB; a rebuild waits longer than that before it drops the generation it replaced.
    `page_size` caps the items of one Query page (tests use it to exercise paging).
    """

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        pointer_max_age: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        page_size: int | None = None,
    ) -> None:
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size is at least 1, got {page_size}")
        self._client = client
        self._table = table_name
        self._page_size = page_size
        self._pointer_max_age = pointer_max_age
        self._clock = clock
        self._active: dict[str, tuple[float, int]] = {}

    # -- checkpoints and commits ---------------------------------------------------------

    def checkpoints(self, stream_id: str) -> dict[Target, Checkpoint]:
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": checkpoint_partition(stream_id)}},
            "ConsistentRead": True,  # deciding repeat / next / gap needs the latest
        }
        found: dict[Target, Checkpoint] = {}
        for item in self._query(query):
            view, generation = item["sk"]["S"].rsplit("#", 1)
            state = item.get("state")
            found[Target(view, int(generation))] = Checkpoint(
                int(item["version"]["N"]), state["S"] if state else None
            )
        return found

    def commit(self, commits: Sequence[Commit]) -> None:
        for commit in commits:
            check_commit(commit)
        for group in _transactions(commits):
            actions = [action for commit in group for action in self._actions(commit)]
            try:
                # botocore fills ClientRequestToken: its own retry of a transaction that did
                # commit succeeds instead of failing on our own checkpoint.
                self._client.transact_write_items(TransactItems=actions)
            except ClientError as error:
                if not _is_conflict(error):
                    raise
                raise CheckpointMovedError(
                    f"a checkpoint of {group[0].stream_id!r} moved under the commit"
                ) from error

    def _actions(self, commit: Commit) -> list[TransactWriteItemTypeDef]:
        checkpoint: dict[str, AttributeValueTypeDef] = {
            **checkpoint_key(commit.stream_id, commit.target),
            "version": {"N": str(commit.checkpoint.version)},
        }
        if commit.checkpoint.state is not None:
            checkpoint["state"] = {"S": commit.checkpoint.state}
        put_checkpoint: TransactWriteItemTypeDef = {
            "Put": {"TableName": self._table, "Item": checkpoint}
        }
        if commit.expected_version == 0:
            put_checkpoint["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put_checkpoint["Put"]["ConditionExpression"] = "#v = :expected"
            put_checkpoint["Put"]["ExpressionAttributeNames"] = {"#v": "version"}
            put_checkpoint["Put"]["ExpressionAttributeValues"] = {
                ":expected": {"N": str(commit.expected_version)}
            }
        actions = [put_checkpoint]
        for key, text in sorted(commit.writes.items()):
            item_key: dict[str, AttributeValueTypeDef] = {
                "pk": {"S": document_pk(commit.target, key.partition)},
                "sk": {"S": key.sort},
            }
            if text is None:
                actions.append({"Delete": {"TableName": self._table, "Key": item_key}})
            else:
                item = {**item_key, "doc": {"S": text}}
                actions.append({"Put": {"TableName": self._table, "Item": item}})
        return actions

    # -- generations ------------------------------------------------------------------------

    def generations(self) -> dict[str, Generations]:
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": GENERATIONS}},
            "ConsistentRead": True,
        }
        return {item["sk"]["S"]: _generations(item) for item in self._query(query)}

    def active_generation(self, view: str) -> int:
        now = self._clock()
        cached = self._active.get(view)
        if cached is not None and now - cached[0] < self._pointer_max_age:
            return cached[1]
        item = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": GENERATIONS}, "sk": {"S": view}}
        ).get("Item")
        active = _generations(item).active if item else Generations().active
        self._active[view] = (now, active)
        return active

    def start_generation(self, view: str) -> tuple[int, int | None]:
        current, revision = self._pointer(view)
        generation = max(current.active, current.building or 0) + 1
        self._put_pointer(view, Generations(current.active, generation), revision)
        return generation, current.building

    def switch_generation(self, view: str, generation: int) -> int:
        current, revision = self._pointer(view)
        if current.building != generation:
            raise GenerationChangedError(f"{view}: generation {generation} is not the one building")
        self._put_pointer(view, Generations(generation), revision)
        self._active.pop(view, None)
        return current.active

    def drop_generation(self, view: str, generation: int) -> int:
        current, _ = self._pointer(view)
        if generation in {current.active, current.building}:
            raise ValueError(f"{view}: generation {generation} is in use")
        target = Target(view, generation)
        scan: ScanInputTypeDef = {
            "TableName": self._table,
            "ProjectionExpression": "pk, sk",
            "FilterExpression": "begins_with(pk, :docs) OR (begins_with(pk, :cp) AND sk = :cpsk)",
            "ExpressionAttributeValues": {
                ":docs": {"S": document_pk(target, "")},
                ":cp": {"S": "cp#"},
                ":cpsk": {"S": f"{view}#{generation}"},
            },
        }
        keys = [{"pk": item["pk"], "sk": item["sk"]} for item in self._scan(scan)]
        for start in range(0, len(keys), _BATCH_WRITE):
            self._delete_all(keys[start : start + _BATCH_WRITE])
        return len(keys)

    def _pointer(self, view: str) -> tuple[Generations, int]:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": GENERATIONS}, "sk": {"S": view}},
            ConsistentRead=True,
        ).get("Item")
        if item is None:
            return Generations(), 0
        return _generations(item), int(item["revision"]["N"])

    def _put_pointer(self, view: str, generations: Generations, revision: int) -> None:
        item: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": GENERATIONS},
            "sk": {"S": view},
            "active": {"N": str(generations.active)},
            "revision": {"N": str(revision + 1)},
        }
        if generations.building is not None:
            item["building"] = {"N": str(generations.building)}
        try:
            if revision == 0:
                self._client.put_item(
                    TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)"
                )
            else:
                self._client.put_item(
                    TableName=self._table,
                    Item=item,
                    ConditionExpression="revision = :revision",
                    ExpressionAttributeValues={":revision": {"N": str(revision)}},
                )
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            raise GenerationChangedError(f"{view}: generations changed meanwhile") from error

    def _delete_all(self, keys: list[dict[str, Any]]) -> None:
        requests: Any = [{"DeleteRequest": {"Key": key}} for key in keys]
        for attempt in range(8):
            response = self._client.batch_write_item(RequestItems={self._table: requests})
            requests = response.get("UnprocessedItems", {}).get(self._table)
            if not requests:
                return
            time.sleep(min(2.0, 0.05 * 2**attempt))  # throttled: back off, then try the rest
        raise RuntimeError(f"could not delete {len(requests)} read-model items (throttled)")

    # -- reading documents ------------------------------------------------------------------

    def document(self, target: Target, key: DocKey) -> str | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": document_pk(target, key.partition)}, "sk": {"S": key.sort}},
        ).get("Item")
        return str(item["doc"]["S"]) if item else None

    def documents(
        self, target: Target, partition: str, *, after: str | None = None, limit: int | None = None
    ) -> Iterator[tuple[str, str]]:
        values: dict[str, AttributeValueTypeDef] = {":pk": {"S": document_pk(target, partition)}}
        if after is not None:
            values[":after"] = {"S": after}
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk" if after is None else "pk = :pk AND sk > :after",
            "ExpressionAttributeValues": values,
        }
        if limit is not None or self._page_size is not None:
            query["Limit"] = min(n for n in (limit, self._page_size) if n is not None)
        for found, item in enumerate(self._query(query)):
            if limit is not None and found == limit:
                return
            yield item["sk"]["S"], item["doc"]["S"]

    def items(self, target: Target) -> Iterator[tuple[DocKey, str]]:
        prefix = document_pk(target, "")
        scan: ScanInputTypeDef = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :docs)",
            "ExpressionAttributeValues": {":docs": {"S": prefix}},
        }
        for item in self._scan(scan):
            partition = item["pk"]["S"].removeprefix(prefix)
            yield DocKey(partition, item["sk"]["S"]), item["doc"]["S"]

    def _query(self, query: QueryInputTypeDef) -> Iterator[Item]:
        while True:
            page = self._client.query(**query)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _scan(self, scan: ScanInputTypeDef) -> Iterator[Item]:
        while True:
            page = self._client.scan(**scan)
            yield from page["Items"]
            if "LastEvaluatedKey" not in page:
                return
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _generations(item: Item) -> Generations:
    building = item.get("building")
    return Generations(int(item["active"]["N"]), int(building["N"]) if building else None)


def _transactions(commits: Sequence[Commit]) -> Iterator[list[Commit]]:
    """Commits grouped greedily into transactions within DynamoDB's item and byte limits."""
    group: list[Commit] = []
    items = size = 0
    for commit in commits:
        commit_bytes = commit.byte_size()
        if group and (
            items + commit.size > MAX_COMMIT_ITEMS or size + commit_bytes > MAX_COMMIT_BYTES
        ):
            yield group
            group, items, size = [], 0, 0
        group.append(commit)
        items += commit.size
        size += commit_bytes
    if group:
        yield group


def _is_conflict(error: ClientError) -> bool:
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons", [])
    codes = {reason.get("Code") for reason in reasons} - {None, "None"}
    return bool(codes) and codes <= _CONFLICT_REASONS
