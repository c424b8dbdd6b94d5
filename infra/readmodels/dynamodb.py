"""The DynamoDB read-model store, on the generic `ReadModelTable` (pk, sk strings).

Items:
- a document: pk `<view>#<generation>#<partition>`, sk `<sort>`, `doc` (JSON text), or `z`
  (the text packed, `infra.readmodels.packing`) when that saves a kilobyte of the item: a
  write costs a unit per started kilobyte, and a round's pairs (4.5 KB of text for 20
  agencies) pack into one;
- a stream's checkpoints, every target's in one item: pk `cp#<digest of the stream id>`, sk
  `stream`, and beside it, sk `stream#…`, the parts of a large state (a round's agencies and
  pairs, each its own item: `infra.readmodels.checkpoint_item` says what they hold). A
  digest, because a stream id may name a person's subject (`subject-<id>`);
- a view's generations: pk `generations`, sk `<view>`, `active`, `building`, `revision` (N).

A commit is one TransactWriteItems: the stream's checkpoint item, written whole on the
condition that it is still as read, the parts of its states that changed, and the documents.
Two projectors racing on one event cannot both apply it; the loser reads again and finds it
applied. An event costs one small checkpoint write however many views see it, the round
views' common state is stored once, and a large round's state is not rewritten whole: an
event writes the parts it changed, so what it writes does not grow with the round. Nor does
what it reads: the store keeps each stream's checkpoints as it last read or wrote them, and
uses them again while a GetItem finds the checkpoint item still at that revision.
"""

from __future__ import annotations

import hashlib
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from infra.readmodels import checkpoint_item
from infra.readmodels.checkpoint_item import StreamCheckpoints, item_size
from infra.readmodels.documents import DocKey
from infra.readmodels.packing import pack, unpack
from infra.readmodels.store import (
    MAX_COMMIT_BYTES,
    MAX_COMMIT_ITEMS,
    CheckpointMovedError,
    Checkpoints,
    Commit,
    CommitTooLargeError,
    GenerationChangedError,
    Generations,
    Target,
    check_commit,
    check_expected,
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
_KILOBYTE: Final = 1024  # what DynamoDB bills a write by, per started one
_STREAMS_KNOWN: Final = 32
"""Streams whose checkpoints a store keeps between events (a round's state may be 100s of KB)."""


def document_pk(target: Target, partition: str) -> str:
    return f"{target.view}#{target.generation}#{partition}"


def checkpoint_partition(stream_id: str) -> str:
    """Where a stream's checkpoints live: a digest, so no stream id (nor subject id) is stored."""
    return "cp#" + hashlib.blake2b(stream_id.encode(), digest_size=16).hexdigest()


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
        self._known: OrderedDict[str, StreamCheckpoints] = OrderedDict()

    # -- checkpoints and commits ---------------------------------------------------------

    def checkpoints(self, stream_id: str) -> Checkpoints:
        read = self._read_checkpoints(checkpoint_partition(stream_id))
        return Checkpoints(read.checkpoints(), basis=read)

    def _read_checkpoints(self, partition: str) -> StreamCheckpoints:
        """The stream's checkpoints: as this store last read or wrote them if its checkpoint
        item is still at that revision (one small GetItem), else read whole (one Query)."""
        known = self._known.get(partition)
        if known is not None:
            item = self._client.get_item(
                TableName=self._table,
                Key={"pk": {"S": partition}, "sk": {"S": checkpoint_item.SORT}},
                ProjectionExpression="#rev",
                ExpressionAttributeNames={"#rev": checkpoint_item.REVISION},
                ConsistentRead=True,
            ).get("Item")
            # A state's parts change only with the item's revision: the same revision, the
            # same states (parts of a commit that failed are not anyone's).
            if item is not None and int(item[checkpoint_item.REVISION]["N"]) == known.revision:
                self._known.move_to_end(partition)
                return known.copy()
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition}},
            "ConsistentRead": True,  # deciding repeat / next / gap needs the latest
        }
        read = StreamCheckpoints.read(partition, self._query(query))
        if read.revision:
            self._remember(read)
        return read

    def _remember(self, read: StreamCheckpoints) -> None:
        """Keep what a stream's checkpoints are (a copy), for its next read."""
        self._known[read.partition] = read.copy()
        self._known.move_to_end(read.partition)
        while len(self._known) > _STREAMS_KNOWN:
            self._known.popitem(last=False)

    def commit(self, commits: Sequence[Commit]) -> None:
        for commit in commits:
            check_commit(commit)
        by_stream: dict[str, list[Commit]] = {}
        for commit in commits:
            by_stream.setdefault(commit.stream_id, []).append(commit)
        for stream_id, group in by_stream.items():
            basis = self._basis(stream_id, group)
            if basis.legacy:
                self._write(basis, [])  # moves the old-layout checkpoints into the item
            for transaction in _transactions(group):
                self._write(basis, transaction)

    def _basis(self, stream_id: str, commits: Sequence[Commit]) -> StreamCheckpoints:
        """The read the commits were computed from, or a fresh one when they carry none."""
        partition = checkpoint_partition(stream_id)
        basis = commits[0].basis
        if (
            isinstance(basis, StreamCheckpoints)
            and basis.partition == partition
            and all(commit.basis is basis for commit in commits)
        ):
            return basis
        return self._read_checkpoints(partition)

    def _write(self, basis: StreamCheckpoints, commits: Sequence[Commit]) -> None:
        """One transaction: the stream's checkpoint item with the commits, their documents,
        and the parts of its states that changed (those of a state needing too many for the
        transaction are put before it; parts no state refers to any more are deleted after)."""
        checkpoints = basis.checkpoints()
        for commit in commits:
            check_expected(commit, checkpoints.get(commit.target))
            checkpoints[commit.target] = commit.checkpoint
        actions: list[TransactWriteItemTypeDef] = []
        for checkpoint, key in basis.legacy.values():
            delete: TransactWriteItemTypeDef = {
                "Delete": {
                    "TableName": self._table,
                    "Key": dict(key),
                    "ConditionExpression": "#v = :v",
                    "ExpressionAttributeNames": {"#v": "version"},
                    "ExpressionAttributeValues": {":v": {"N": str(checkpoint.version)}},
                }
            }
            actions.append(delete)
        for commit in commits:
            actions += self._document_actions(commit)
        layout = basis.layout(checkpoints, room=MAX_COMMIT_ITEMS - 1 - len(actions))
        item = layout.item
        if (size := item_size(item)) > checkpoint_item.MAX_ITEM_BYTES:
            where = repr(commits[0].stream_id) if commits else basis.partition
            raise CommitTooLargeError(
                f"the checkpoints of {where} take {size} bytes together, "
                f"over {checkpoint_item.MAX_ITEM_BYTES}"
            )
        put: TransactWriteItemTypeDef = {"Put": {"TableName": self._table, "Item": item}}
        if basis.revision == 0:
            put["Put"]["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["Put"]["ConditionExpression"] = "#rev = :rev"
            put["Put"]["ExpressionAttributeNames"] = {"#rev": checkpoint_item.REVISION}
            put["Put"]["ExpressionAttributeValues"] = {":rev": {"N": str(basis.revision)}}
        actions.insert(0, put)
        for sort, text in sorted(layout.puts.items()):
            part = _part(basis.partition, sort, text)
            actions.append({"Put": {"TableName": self._table, "Item": part}})
        for sort in sorted(layout.deletes):
            key = {"pk": {"S": basis.partition}, "sk": {"S": sort}}
            actions.append({"Delete": {"TableName": self._table, "Key": key}})
        if layout.before:  # a new reference no item refers to yet: safe to write ahead
            parts = [_part(basis.partition, sort, text) for sort, text in layout.before.items()]
            for start in range(0, len(parts), _BATCH_WRITE):
                self._batch(
                    [{"PutRequest": {"Item": p}} for p in parts[start : start + _BATCH_WRITE]]
                )
        try:
            # botocore fills ClientRequestToken: its own retry of a transaction that did
            # commit succeeds instead of failing on our own checkpoint.
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if not _is_conflict(error):
                raise
            raise CheckpointMovedError(
                f"the checkpoints of {basis.partition} moved under the commit"
            ) from error
        basis.written(checkpoints, layout)
        self._remember(basis)
        self._delete_parts(basis.partition, layout.after)

    def _delete_parts(self, partition: str, sorts: Iterable[str]) -> None:
        """Delete parts no state refers to (a later read finds any left, and deletes them)."""
        keys: list[dict[str, Any]] = [
            {"pk": {"S": partition}, "sk": {"S": s}} for s in sorted(sorts)
        ]
        for start in range(0, len(keys), _BATCH_WRITE):
            self._delete_all(keys[start : start + _BATCH_WRITE])

    def _document_actions(self, commit: Commit) -> list[TransactWriteItemTypeDef]:
        actions: list[TransactWriteItemTypeDef] = []
        for key, text in sorted(commit.writes.items()):
            item_key: dict[str, AttributeValueTypeDef] = {
                "pk": {"S": document_pk(commit.target, key.partition)},
                "sk": {"S": key.sort},
            }
            if text is None:
                actions.append({"Delete": {"TableName": self._table, "Key": item_key}})
            else:
                item = document_item(item_key, text)
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
            "FilterExpression": "begins_with(pk, :docs) OR (begins_with(pk, :cp) AND "
            "(sk = :legacy OR attribute_exists(#target)))",
            "ExpressionAttributeNames": {"#target": f"{view}#{generation}"},
            "ExpressionAttributeValues": {
                ":docs": {"S": document_pk(target, "")},
                ":cp": {"S": "cp#"},
                ":legacy": {"S": f"{view}#{generation}"},
            },
        }
        keys: list[dict[str, Any]] = []
        streams: list[str] = []
        for item in self._scan(scan):
            if item["pk"]["S"].startswith("cp#") and item["sk"]["S"] == checkpoint_item.SORT:
                streams.append(item["pk"]["S"])
            else:  # a document, or an old-layout checkpoint
                keys.append({"pk": item["pk"], "sk": item["sk"]})
        for start in range(0, len(keys), _BATCH_WRITE):
            self._delete_all(keys[start : start + _BATCH_WRITE])
        return len(keys) + sum(self._forget(partition, target) for partition in streams)

    def _forget(self, partition: str, target: Target) -> bool:
        """Take `target`'s checkpoint out of a stream's item; whether it held one."""
        for _ in range(8):
            read = self._read_checkpoints(partition)
            if target not in read.held:
                return False
            rest = {t: checkpoint for t, checkpoint in read.held.items() if t != target}
            names = {"#rev": checkpoint_item.REVISION}
            values: dict[str, AttributeValueTypeDef] = {":rev": {"N": str(read.revision)}}
            layout = read.layout(rest, room=0)  # the states kept are as they were: no parts
            try:
                if rest:
                    self._client.put_item(
                        TableName=self._table,
                        Item=layout.item,
                        ConditionExpression="#rev = :rev",
                        ExpressionAttributeNames=names,
                        ExpressionAttributeValues=values,
                    )
                else:
                    self._client.delete_item(
                        TableName=self._table,
                        Key={"pk": {"S": partition}, "sk": {"S": checkpoint_item.SORT}},
                        ConditionExpression="#rev = :rev",
                        ExpressionAttributeNames=names,
                        ExpressionAttributeValues=values,
                    )
                self._delete_parts(partition, layout.after)
                return True
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code")
                if code != "ConditionalCheckFailedException":
                    raise
                # a projector wrote the stream meanwhile: read it again
        raise CheckpointMovedError(f"the checkpoints of {partition} kept moving")

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
        self._batch([{"DeleteRequest": {"Key": key}} for key in keys])

    def _batch(self, requests: Any) -> None:
        """One BatchWriteItem of at most 25 requests, what it left unprocessed sent again."""
        for attempt in range(8):
            response = self._client.batch_write_item(RequestItems={self._table: requests})
            requests = response.get("UnprocessedItems", {}).get(self._table)
            if not requests:
                return
            time.sleep(min(2.0, 0.05 * 2**attempt))  # throttled: back off, then try the rest
        raise RuntimeError(f"could not write {len(requests)} read-model items (throttled)")

    # -- reading documents ------------------------------------------------------------------

    def document(self, target: Target, key: DocKey) -> str | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": document_pk(target, key.partition)}, "sk": {"S": key.sort}},
        ).get("Item")
        return document_text(item) if item else None

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
            yield item["sk"]["S"], document_text(item)

    def items(self, target: Target) -> Iterator[tuple[DocKey, str]]:
        prefix = document_pk(target, "")
        scan: ScanInputTypeDef = {
            "TableName": self._table,
            "FilterExpression": "begins_with(pk, :docs)",
            "ExpressionAttributeValues": {":docs": {"S": prefix}},
        }
        for item in self._scan(scan):
            partition = item["pk"]["S"].removeprefix(prefix)
            yield DocKey(partition, item["sk"]["S"]), document_text(item)

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


def document_item(
    key: dict[str, AttributeValueTypeDef], text: str
) -> dict[str, AttributeValueTypeDef]:
    """A document's item: its text, packed when that makes the item a kilobyte smaller."""
    keys = sum(len(value["S"].encode()) for value in key.values()) + len("pk") + len("sk")
    size = keys + len("doc") + len(text.encode())
    if size > _KILOBYTE:
        packed = pack(text)
        if _kilobytes(keys + len("z") + len(packed)) < _kilobytes(size):
            return {**key, "z": {"B": packed}}
    return {**key, "doc": {"S": text}}


def document_text(item: Item) -> str:
    """The JSON text of a document's item, however it is stored."""
    if "doc" in item:
        return str(item["doc"]["S"])
    return unpack(bytes(item["z"]["B"]))


def stored_texts(item: Item) -> list[str]:
    """Every text an item of the read-model table holds, unpacked (to check what is stored)."""
    texts = [
        str(value["S"]) for value in item.values() if isinstance(value, Mapping) and "S" in value
    ]
    if "z" in item:
        texts.append(document_text(item))
    return texts + checkpoint_item.states(item)


def _part(partition: str, sort: str, text: str) -> dict[str, AttributeValueTypeDef]:
    """A part of a state kept in parts (`infra.readmodels.checkpoint_item`)."""
    return {"pk": {"S": partition}, "sk": {"S": sort}, "v": {"S": text}}


def _kilobytes(size: int) -> int:
    return -(-size // _KILOBYTE)


def _generations(item: Item) -> Generations:
    building = item.get("building")
    return Generations(int(item["active"]["N"]), int(building["N"]) if building else None)


def _transactions(commits: Sequence[Commit]) -> Iterator[list[Commit]]:
    """One stream's commits grouped greedily into transactions within DynamoDB's limits.

    Each transaction also writes the stream's checkpoint item (one item); a target, or a
    document, comes at most once in a transaction (DynamoDB refuses two actions on one item).
    """
    group: list[Commit] = []
    items = 1
    size = 0
    seen: set[Any] = set()
    for commit in commits:
        commit_bytes = commit.byte_size()
        keys = {commit.target, *((commit.target, key) for key in commit.writes)}
        if group and (
            items + len(commit.writes) > MAX_COMMIT_ITEMS
            or size + commit_bytes > MAX_COMMIT_BYTES
            or not seen.isdisjoint(keys)
        ):
            yield group
            group, items, size, seen = [], 1, 0, set()
        group.append(commit)
        items += len(commit.writes)
        size += commit_bytes
        seen |= keys
    if group:
        yield group


def _is_conflict(error: ClientError) -> bool:
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons", [])
    codes = {reason.get("Code") for reason in reasons} - {None, "None"}
    return bool(codes) and codes <= _CONFLICT_REASONS
