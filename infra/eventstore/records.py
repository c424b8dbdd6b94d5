"""Stored events: the one shape every store keeps, the size rules, and the checks of an append.

Every store encodes through here, so they refuse the same appends and read back through the
same upcasting path: the in-memory store is a faithful stand-in, not a friendlier one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Final

from events import EventMetadata, event_from_json, event_to_json
from infra.eventstore.errors import (
    AppendTooLargeError,
    EmptyAppendError,
    EventTooLargeError,
    SnapshotRefusedError,
    TooManyEventsError,
)
from infra.eventstore.port import NewEvent, RecordedEvent, Snapshot

# A DynamoDB transaction holds at most 100 actions, and an append spends one of them on the
# stream's tip (its version, the check of the expected one) and, when it keeps a snapshot too
# large for the tip, one on the snapshot's own item.
MAX_EVENTS_PER_APPEND: Final = 98
# DynamoDB's item limit is "400 KB"; 400,000 is below every reading of that (and below moto's).
MAX_ITEM_BYTES: Final = 400_000
# DynamoDB refuses a transaction whose items together exceed 4 MB.
MAX_APPEND_BYTES: Final = 4_000_000
# A large snapshot has an item of its own, with its stream id, version and format: well under
# the item limit. A writer whose state encodes larger appends without one (readers fold from
# the last).
MAX_SNAPSHOT_BYTES: Final = 390_000
MAX_SNAPSHOT_FORMAT_BYTES: Final = 1_000


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """One event as stored: exactly the attributes of its DynamoDB item, as plain values."""

    stream_id: str
    version: int
    type: str
    schema_version: int
    payload: str
    event_id: str
    occurred_at: str
    recorded_at: str
    correlation_id: str
    causation_id: str
    actor: str

    def attributes(self) -> dict[str, str | int]:
        return asdict(self)


def encode(stream_id: str, version: int, new: NewEvent) -> StoredEvent:
    meta = new.metadata
    return StoredEvent(
        stream_id=stream_id,
        version=version,
        type=new.event.type,
        schema_version=new.event.schema_version,
        payload=json.dumps(event_to_json(new.event), separators=(",", ":"), ensure_ascii=False),
        event_id=meta.event_id,
        occurred_at=_timestamp(meta.occurred_at),
        recorded_at=_timestamp(meta.recorded_at),
        correlation_id=meta.correlation_id,
        causation_id=meta.causation_id,
        actor=meta.actor,
    )


def decode(stored: StoredEvent) -> RecordedEvent:
    """Back to the current event model; an old schema version is upcast on the way."""
    return RecordedEvent(
        stream_id=stored.stream_id,
        version=stored.version,
        event=event_from_json(json.loads(stored.payload)),
        metadata=EventMetadata(
            event_id=stored.event_id,
            occurred_at=datetime.fromisoformat(stored.occurred_at),
            recorded_at=datetime.fromisoformat(stored.recorded_at),
            correlation_id=stored.correlation_id,
            causation_id=stored.causation_id,
            actor=stored.actor,
        ),
    )


def item_size(stored: StoredEvent) -> int:
    """The item's size as DynamoDB counts it: attribute names plus values, in bytes."""
    return sum(
        len(name.encode()) + _value_size(value) for name, value in stored.attributes().items()
    )


def prepare_append(
    stream_id: str,
    expected_version: int,
    events: Sequence[NewEvent],
    snapshot: Snapshot | None = None,
) -> list[StoredEvent]:
    """Check an append (and the snapshot it carries) and encode its events at the versions
    they will take."""
    check_stream_id(stream_id)
    check_version(expected_version, "expected_version")
    if not events:
        raise EmptyAppendError(f"an append to {stream_id!r} must carry at least one event")
    if len(events) > MAX_EVENTS_PER_APPEND:
        raise TooManyEventsError(
            f"an append holds at most {MAX_EVENTS_PER_APPEND} events (one DynamoDB "
            f"transaction), got {len(events)}"
        )
    stored = [encode(stream_id, expected_version + n, new) for n, new in enumerate(events, 1)]
    sizes = [item_size(item) for item in stored]
    for item, size in zip(stored, sizes, strict=True):
        if size > MAX_ITEM_BYTES:
            raise EventTooLargeError(item.type, size, MAX_ITEM_BYTES)
    if snapshot is not None:
        check_snapshot(snapshot, stored[-1].version)
        sizes.append(len(snapshot.data) + len(snapshot.format))
    if (total := sum(sizes)) > MAX_APPEND_BYTES:
        raise AppendTooLargeError(total, MAX_APPEND_BYTES)
    return stored


def check_snapshot(snapshot: Snapshot, new_version: int) -> None:
    """A snapshot kept with an append is of the stream as that append leaves it."""
    if snapshot.version != new_version:
        raise SnapshotRefusedError(
            f"a snapshot kept with this append is at version {new_version}, "
            f"got one at version {snapshot.version}"
        )
    if not snapshot.format:
        raise SnapshotRefusedError("a snapshot names its format")
    if len(snapshot.format.encode()) > MAX_SNAPSHOT_FORMAT_BYTES:
        raise SnapshotRefusedError(
            f"a snapshot's format is at most {MAX_SNAPSHOT_FORMAT_BYTES} bytes"
        )
    if len(snapshot.data) > MAX_SNAPSHOT_BYTES:
        raise SnapshotRefusedError(
            f"a snapshot is at most {MAX_SNAPSHOT_BYTES} bytes, got {len(snapshot.data)}"
        )


def check_stream_id(stream_id: str) -> None:
    if not isinstance(stream_id, str) or not stream_id:
        raise ValueError(f"a stream id is a non-empty string, got {stream_id!r}")


def check_version(version: int, name: str) -> None:
    # bool is an int subclass; `True` as a version is always a bug in the caller.
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ValueError(f"{name} is a whole number from 0, got {version!r}")


def _timestamp(instant: datetime) -> str:
    # Fixed width with microseconds and "Z": the strings sort as the instants do.
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _value_size(value: str | int) -> int:
    if isinstance(value, str):
        return len(value.encode())
    # DynamoDB: about one byte per two significant digits, plus one.
    return (len(str(abs(value))) + 1) // 2 + 1
