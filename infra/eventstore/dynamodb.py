"""The DynamoDB event store: one item per event, appends as one conditional transaction.

Table: partition key `stream_id` (S), sort key `version` (N); see `template.yaml`.

Each stream also has two reserved items below its events (which are numbered from 1):

- its *tip*, at version 0: the stream's `head` version and, when it fits in the tip's first
  KB (`TIP_BYTES`), a snapshot of its state (`snapshot`, `snapshot_version`,
  `snapshot_format`). Every append updates the tip in the same transaction as it puts the
  events, on the condition that `head` is still the version the writer decided on. A
  transactional write is billed 2 units per KB of the larger of the item's old and new
  image, so a tip kept under 1 KB costs the minimum, however large the state grows;
- its *snapshot item*, at version -1 (`SNAPSHOT_VERSION`), for a snapshot too large for the
  tip: the same three attributes, written (whole) only by the appends that keep such a
  snapshot, in their transaction. The writer decides how often (the command handler keeps
  a large snapshot every so many events, not with every append).

A load reads both reserved items with one strongly consistent Query (adjacent sort keys),
takes the newer snapshot in the asked format, and, unless it is at the head, reads the
events after it with a second Query: 1 or 2 requests. Readers of events never see the
reserved items: they read versions above 0, and the stream's consumers skip versions 0 and
below (`is_tip`).

Older layouts still load: a tip written before the snapshot item existed holds its
snapshot whatever its size (its load flags it, so the writer keeps a snapshot with its next
append and the tip shrinks back to its head); a stream written before tips existed has
none: its first append finds so, gives the stream a tip at its last version (checked to
exist) and appends again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    HTTPClientError,
    ReadTimeoutError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from infra.eventstore.errors import ConcurrencyError
from infra.eventstore.port import LoadedStream, NewEvent, RecordedEvent, Snapshot
from infra.eventstore.records import (
    StoredEvent,
    check_stream_id,
    check_version,
    decode,
    prepare_append,
)

if TYPE_CHECKING:  # the stubs are a development dependency only
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        PutTypeDef,
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
    )

# A failed condition means another writer got there first (or the stream is not where the
# caller thinks); TransactionConflict means another transaction held one of our items at the
# same moment. Both leave nothing written and are resolved by deciding again on fresh state.
_CONFLICT_REASONS: Final = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_VERSION: Final = {"#v": "version"}
TIP_VERSION: Final = 0  # the sort key of a stream's tip item
SNAPSHOT_VERSION: Final = -1  # the sort key of a stream's snapshot item (below the tip)
# A tip up to this size is billed the minimum (1 KB, 2 units in a transaction) per append: a
# snapshot rides in it when the whole tip still fits, and gets the snapshot item otherwise.
TIP_BYTES: Final = 1024
_SNAPSHOT_NAMES: Final = ("snapshot", "snapshot_version", "snapshot_format")
# The request reached DynamoDB but its answer did not reach us: the append may have committed.
_ANSWER_LOST: Final = (ReadTimeoutError, ConnectionClosedError)
# Answers that mean "not now" rather than "no": throttled, overloaded, or not reached at all.
_UNAVAILABLE_CODES: Final = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
        "RequestTimeout",
        "RequestTimeoutException",
    }
)
_UNAVAILABLE_REASONS: Final = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded"})


class DynamoDBEventStore:
    """An `EventStore` over a DynamoDB table; the client is passed in, never created here."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        *,
        page_size: int | None = None,
        snapshots_in_tip: bool = False,
    ) -> None:
        """`snapshots_in_tip` writes and reads the layout before the snapshot item (every
        snapshot in the tip, whatever its size; loads with one GetItem of the tip): kept only
        to measure it side by side (`bench/store_cost.py`). Its data loads either way."""
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size is at least 1, got {page_size}")
        self._client = client
        self._table = table_name
        self._page_size = page_size
        self._snapshots_in_tip = snapshots_in_tip

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        snapshot: Snapshot | None = None,
    ) -> int:
        stored = prepare_append(stream_id, expected_version, events, snapshot)
        # The tip's condition (head at the expected version) is what keeps an append expecting
        # version 7 to a stream at 5 from leaving a gap at 6; each Put's own condition guards
        # its version against a stream that lost its tip.
        actions = [
            *self._advance_tip(stream_id, expected_version, stored[-1].version, snapshot),
            *(self._put(item) for item in stored),
        ]
        try:
            # botocore fills ClientRequestToken, so its own retry of a transaction that did
            # commit succeeds rather than reporting a conflict with ourselves.
            self._client.transact_write_items(TransactItems=actions)
        except ClientError as error:
            if not _is_conflict(error):
                raise
            # A store that ignores the token (moto, the local stack) fails that retry's
            # condition instead: the events found at our versions, by id, tell the two apart.
            after = self._event_ids_after(stream_id, expected_version)
            if _holds(after, stored):
                return stored[-1].version
            actual = max(after) if after else self.last_version(stream_id)
            if actual == expected_version > 0 and self._give_tip(stream_id, actual):
                return self.append(stream_id, expected_version, events, snapshot)
            raise ConcurrencyError(stream_id, expected_version, actual) from error
        except _ANSWER_LOST:
            # botocore gave up waiting; the transaction may still have committed. If it did,
            # it was this append: report it written, or a retry would record nothing new and
            # the caller would never learn its command took effect.
            if _holds(self._event_ids_after(stream_id, expected_version), stored):
                return stored[-1].version
            raise
        return stored[-1].version

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        check_stream_id(stream_id)
        if snapshot_format is None:
            return LoadedStream(None, tuple(self.read(stream_id)))
        tip, kept = self._reserved(stream_id)
        # The newer of the tip's snapshot and the snapshot item's, in the format asked for.
        found = [s for s in (_snapshot_in(tip, snapshot_format), kept) if s is not None]
        found = [s for s in found if s.format == snapshot_format]
        snapshot = max(found, key=lambda s: s.version, default=None)
        # A tip over its first KB is an older layout's (a large snapshot in it): every append
        # pays for all of it until a snapshot kept anew takes its place.
        again = not self._snapshots_in_tip and _size(tip) > TIP_BYTES
        if snapshot is not None and snapshot.version == _head_of(tip):
            return LoadedStream(snapshot, (), again)  # one read, however long the stream
        after = snapshot.version if snapshot is not None else 0
        return LoadedStream(snapshot, tuple(self.read(stream_id, after)), again)

    def _reserved(self, stream_id: str) -> tuple[Mapping[str, Mapping[str, Any]], Snapshot | None]:
        """The stream's tip (empty if it has none) and the snapshot in its snapshot item."""
        if self._snapshots_in_tip:
            tip = self._client.get_item(
                TableName=self._table,
                Key=_reserved_key(stream_id, TIP_VERSION),
                ConsistentRead=True,  # a command must decide on every event already appended
            ).get("Item", {})
            return tip, None
        items = self._client.query(
            TableName=self._table,
            KeyConditionExpression="stream_id = :stream AND #v BETWEEN :snapshot AND :tip",
            ExpressionAttributeNames=_VERSION,
            ExpressionAttributeValues={
                ":stream": {"S": stream_id},
                ":snapshot": {"N": str(SNAPSHOT_VERSION)},
                ":tip": {"N": str(TIP_VERSION)},
            },
            ConsistentRead=True,  # a command must decide on every event already appended
        )["Items"]
        by_version = {int(item["version"]["N"]): item for item in items}
        kept = by_version.get(SNAPSHOT_VERSION, {})
        return by_version.get(TIP_VERSION, {}), _snapshot_in(kept, None)

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        check_stream_id(stream_id)
        check_version(after_version, "after_version")
        query: QueryInputTypeDef = {
            "TableName": self._table,
            "KeyConditionExpression": "stream_id = :stream AND #v > :after",
            "ExpressionAttributeNames": _VERSION,
            "ExpressionAttributeValues": {
                ":stream": {"S": stream_id},
                ":after": {"N": str(after_version)},
            },
            "ConsistentRead": True,  # a command must decide on every event already appended
            "ScanIndexForward": True,
        }
        if self._page_size is not None:
            query["Limit"] = self._page_size
        return self._pages(query)

    def last_version(self, stream_id: str) -> int:
        check_stream_id(stream_id)
        page = self._client.query(
            TableName=self._table,
            KeyConditionExpression="stream_id = :stream",
            ExpressionAttributeNames=_VERSION,
            ExpressionAttributeValues={":stream": {"S": stream_id}},
            ProjectionExpression="#v",
            ConsistentRead=True,
            ScanIndexForward=False,
            Limit=1,
        )
        return int(page["Items"][0]["version"]["N"]) if page["Items"] else 0

    def _event_ids_after(self, stream_id: str, version: int) -> dict[int, str]:
        """Version → event id of the stream's events after `version` (the latest page of them)."""
        page = self._client.query(
            TableName=self._table,
            KeyConditionExpression="stream_id = :stream AND #v > :after",
            ExpressionAttributeNames={**_VERSION, "#id": "event_id"},
            ExpressionAttributeValues={":stream": {"S": stream_id}, ":after": {"N": str(version)}},
            ProjectionExpression="#v, #id",
            ConsistentRead=True,
            ScanIndexForward=False,
        )
        return {
            int(item["version"]["N"]): str(item.get("event_id", {}).get("S", ""))
            for item in page["Items"]
        }

    def _pages(self, query: QueryInputTypeDef) -> Iterator[RecordedEvent]:
        while True:
            page = self._client.query(**query)
            for item in page["Items"]:
                yield recorded_event_from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def _put(self, stored: StoredEvent) -> TransactWriteItemTypeDef:
        return {
            "Put": {
                "TableName": self._table,
                "Item": to_item(stored),
                "ConditionExpression": "attribute_not_exists(#v)",
                "ExpressionAttributeNames": _VERSION,
            }
        }

    def _advance_tip(
        self, stream_id: str, expected_version: int, new_version: int, snapshot: Snapshot | None
    ) -> list[TransactWriteItemTypeDef]:
        """The tip's write (head to the new version, if it is still at the expected one) and,
        for a snapshot too large for the tip, the snapshot item's.

        Without a snapshot the tip's head alone is updated (a snapshot in it stays: still a
        true state of the stream, with the events after it). With one, the tip is put whole:
        with the snapshot if it fits, else with its head alone and the snapshot in its item
        (so a snapshot left in the tip by an older layout, or an older small one, goes).
        """
        values: dict[str, AttributeValueTypeDef] = {}
        if expected_version == 0:
            condition = "attribute_not_exists(#head)"
        else:
            condition = "#head = :expected"
            values[":expected"] = {"N": str(expected_version)}
        head: dict[str, AttributeValueTypeDef] = {"head": {"N": str(new_version)}}
        if snapshot is None:
            return [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": _reserved_key(stream_id, TIP_VERSION),
                        "UpdateExpression": "SET #head = :head",
                        "ConditionExpression": condition,
                        "ExpressionAttributeNames": {"#head": "head"},
                        "ExpressionAttributeValues": {":head": head["head"], **values},
                    }
                }
            ]
        tip = {**_reserved_key(stream_id, TIP_VERSION), **head}
        inline = {**tip, **_snapshot_attributes(snapshot)}
        own_item = not self._snapshots_in_tip and _size(inline) > TIP_BYTES
        put: PutTypeDef = {
            "TableName": self._table,
            "Item": tip if own_item else inline,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#head": "head"},
        }
        if values:
            put["ExpressionAttributeValues"] = values
        actions: list[TransactWriteItemTypeDef] = [{"Put": put}]
        if own_item:
            item = {**_reserved_key(stream_id, SNAPSHOT_VERSION), **_snapshot_attributes(snapshot)}
            # Unconditional: the tip's condition in the same transaction orders the writers.
            actions.append({"Put": {"TableName": self._table, "Item": item}})
        return actions

    def _give_tip(self, stream_id: str, version: int) -> bool:
        """Give a stream written before tips existed its tip, at its last version.

        False when the stream has a tip already (the conflict was another writer's).
        """
        try:
            self._client.transact_write_items(
                TransactItems=[
                    self._version_exists(stream_id, version),
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": {
                                **_reserved_key(stream_id, TIP_VERSION),
                                "head": {"N": str(version)},
                            },
                            "ConditionExpression": "attribute_not_exists(#v)",
                            "ExpressionAttributeNames": _VERSION,
                        }
                    },
                ]
            )
        except ClientError as error:
            if _is_conflict(error):
                return False
            raise
        return True

    def _version_exists(self, stream_id: str, version: int) -> TransactWriteItemTypeDef:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": {"stream_id": {"S": stream_id}, "version": {"N": str(version)}},
                "ConditionExpression": "attribute_exists(#v)",
                "ExpressionAttributeNames": _VERSION,
            }
        }


def _reserved_key(stream_id: str, version: int) -> dict[str, AttributeValueTypeDef]:
    return {"stream_id": {"S": stream_id}, "version": {"N": str(version)}}


def _snapshot_attributes(snapshot: Snapshot) -> dict[str, AttributeValueTypeDef]:
    return {
        "snapshot": {"B": snapshot.data},
        "snapshot_version": {"N": str(snapshot.version)},
        "snapshot_format": {"S": snapshot.format},
    }


def _size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """An item's size as DynamoDB bills it: attribute names plus values, in bytes."""
    total = 0
    for name, value in item.items():
        ((kind, raw),) = value.items()
        if kind == "N":  # about one byte per two significant digits, plus one
            digits = str(raw).lstrip("-").replace(".", "").lstrip("0") or "0"
            size = (len(digits) + 1) // 2 + 1
        elif kind == "B":
            size = len(raw)
        else:
            size = len(str(raw).encode())
        total += len(name.encode()) + size
    return total


def _head_of(tip: Mapping[str, Mapping[str, Any]]) -> int:
    return int(tip["head"]["N"]) if "head" in tip else 0


def _snapshot_in(
    item: Mapping[str, Mapping[str, Any]], snapshot_format: str | None
) -> Snapshot | None:
    """A reserved item's snapshot, if it has one (in `snapshot_format`, unless None)."""
    if not all(name in item for name in _SNAPSHOT_NAMES):
        return None
    found = str(item["snapshot_format"]["S"])
    if snapshot_format is not None and found != snapshot_format:
        return None
    return Snapshot(
        version=int(item["snapshot_version"]["N"]),
        format=found,
        data=bytes(item["snapshot"]["B"]),
    )


def is_tip(item: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether an item (as a query or a stream record's image or keys hold it) is one of a
    stream's reserved items, its tip or its snapshot item: not an event (version 0 or below)."""
    version = item.get("version", {}).get("N")
    return version is not None and int(str(version)) <= TIP_VERSION


def to_item(stored: StoredEvent) -> dict[str, AttributeValueTypeDef]:
    """The DynamoDB item of a stored event."""
    return {
        name: {"S": value} if isinstance(value, str) else {"N": str(value)}
        for name, value in stored.attributes().items()
    }


def recorded_event_from_item(item: Mapping[str, Mapping[str, Any]]) -> RecordedEvent:
    """Decode an item as a query or a stream record's NewImage holds it."""

    def text(name: str) -> str:
        return str(item[name]["S"])

    def number(name: str) -> int:
        return int(item[name]["N"])

    return decode(
        StoredEvent(
            stream_id=text("stream_id"),
            version=number("version"),
            type=text("type"),
            schema_version=number("schema_version"),
            payload=text("payload"),
            event_id=text("event_id"),
            occurred_at=text("occurred_at"),
            recorded_at=text("recorded_at"),
            correlation_id=text("correlation_id"),
            causation_id=text("causation_id"),
            actor=text("actor"),
        )
    )


def is_unavailable(error: BaseException) -> bool:
    """Whether a store call failed for want of DynamoDB (throttled, overloaded, timed out,
    unreachable) after botocore's own retries, rather than for anything about the request.

    Nothing was written then, with one exception: an append whose answer was lost (a
    timeout) *and* whose check of its own versions failed too may have committed. Either way
    the same command tried again later is safe: it decides on the stream as it then is.
    """
    if isinstance(error, BotocoreConnectionError | HTTPClientError):
        return True
    if not isinstance(error, ClientError):
        return False
    code = error.response.get("Error", {}).get("Code")
    if code in _UNAVAILABLE_CODES:
        return True
    if code != "TransactionCanceledException":
        return False
    reasons = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
    return bool(reasons & _UNAVAILABLE_REASONS) and not reasons & _CONFLICT_REASONS


def _holds(event_ids: Mapping[int, str], stored: Sequence[StoredEvent]) -> bool:
    """Whether the stream holds exactly these events (by id) at their versions."""
    return all(event_ids.get(event.version) == event.event_id for event in stored)


def _is_conflict(error: ClientError) -> bool:
    if error.response.get("Error", {}).get("Code") != "TransactionCanceledException":
        return False
    reasons = error.response.get("CancellationReasons", [])
    codes = {reason.get("Code") for reason in reasons} - {None, "None"}
    return bool(codes) and codes <= _CONFLICT_REASONS
