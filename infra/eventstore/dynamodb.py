"""The DynamoDB event store: one item per event, appends as one conditional transaction.

Table: partition key `stream_id` (S), sort key `version` (N); see `template.yaml`.
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
from infra.eventstore.port import NewEvent, RecordedEvent
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
        QueryInputTypeDef,
        TransactWriteItemTypeDef,
    )

# A failed condition means another writer got there first (or the stream is not where the
# caller thinks); TransactionConflict means another transaction held one of our items at the
# same moment. Both leave nothing written and are resolved by deciding again on fresh state.
_CONFLICT_REASONS: Final = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_VERSION: Final = {"#v": "version"}
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
        self, client: DynamoDBClient, table_name: str, *, page_size: int | None = None
    ) -> None:
        if page_size is not None and page_size < 1:
            raise ValueError(f"page_size is at least 1, got {page_size}")
        self._client = client
        self._table = table_name
        self._page_size = page_size

    def append(self, stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> int:
        stored = prepare_append(stream_id, expected_version, events)
        actions = [self._put(item) for item in stored]
        if expected_version > 0:
            # Without this check an append expecting version 7 to a stream at 5 would leave
            # a gap at 6: every Put below would find its own version free.
            actions.insert(0, self._version_exists(stream_id, expected_version))
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
            raise ConcurrencyError(stream_id, expected_version, actual) from error
        except _ANSWER_LOST:
            # botocore gave up waiting; the transaction may still have committed. If it did,
            # it was this append: report it written, or a retry would record nothing new and
            # the caller would never learn its command took effect.
            if _holds(self._event_ids_after(stream_id, expected_version), stored):
                return stored[-1].version
            raise
        return stored[-1].version

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

    def _version_exists(self, stream_id: str, version: int) -> TransactWriteItemTypeDef:
        return {
            "ConditionCheck": {
                "TableName": self._table,
                "Key": {"stream_id": {"S": stream_id}, "version": {"N": str(version)}},
                "ConditionExpression": "attribute_exists(#v)",
                "ExpressionAttributeNames": _VERSION,
            }
        }


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
