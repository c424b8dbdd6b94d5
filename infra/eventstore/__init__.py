"""The event store: a port, and in-memory, SQLite and DynamoDB stores that pass one contract.

`SQLiteEventStore` is imported from `infra.eventstore.sqlite`: no Lambda needs sqlite3 loaded.
"""

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
    "Snapshot",
    "TooManyEventsError",
    "is_unavailable",
]
