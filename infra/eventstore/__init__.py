"""The event store: a port, and in-memory, SQLite and DynamoDB stores that pass one contract."""

from infra.eventstore.dynamodb import DynamoDBEventStore, is_unavailable
from infra.eventstore.errors import (
    AppendRefusedError,
    AppendTooLargeError,
    ConcurrencyError,
    EmptyAppendError,
    EventStoreError,
    EventTooLargeError,
    TooManyEventsError,
)
from infra.eventstore.memory import InMemoryEventStore
from infra.eventstore.port import EventStore, LoadedStream, NewEvent, RecordedEvent, Snapshot
from infra.eventstore.records import MAX_APPEND_BYTES, MAX_EVENTS_PER_APPEND, MAX_ITEM_BYTES
from infra.eventstore.sqlite import SQLiteEventStore

__all__ = [
    "MAX_APPEND_BYTES",
    "MAX_EVENTS_PER_APPEND",
    "MAX_ITEM_BYTES",
    "AppendRefusedError",
    "AppendTooLargeError",
    "ConcurrencyError",
    "DynamoDBEventStore",
    "EmptyAppendError",
    "EventStore",
    "EventStoreError",
    "EventTooLargeError",
    "InMemoryEventStore",
    "LoadedStream",
    "NewEvent",
    "RecordedEvent",
    "SQLiteEventStore",
    "Snapshot",
    "TooManyEventsError",
    "is_unavailable",
]
