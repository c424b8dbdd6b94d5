"""The in-memory event store: for unit tests and the local stack, with the same semantics."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence

from infra.eventstore.errors import ConcurrencyError
from infra.eventstore.port import LoadedStream, NewEvent, RecordedEvent, Snapshot
from infra.eventstore.records import (
    StoredEvent,
    check_stream_id,
    check_version,
    decode,
    prepare_append,
)


class InMemoryEventStore:
    """Keeps encoded events, so reads decode and upcast exactly as the DynamoDB store does."""

    def __init__(self) -> None:
        self._streams: dict[str, list[StoredEvent]] = {}
        self._snapshots: dict[str, Snapshot] = {}
        self._lock = threading.Lock()

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        snapshot: Snapshot | None = None,
    ) -> int:
        stored = prepare_append(stream_id, expected_version, events, snapshot)
        with self._lock:
            current = len(self._streams.get(stream_id, ()))
            if current != expected_version:
                raise ConcurrencyError(stream_id, expected_version, current)
            self._streams.setdefault(stream_id, []).extend(stored)
            if snapshot is not None:
                self._snapshots[stream_id] = snapshot
            return stored[-1].version

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        check_stream_id(stream_id)
        with self._lock:
            snapshot = self._snapshots.get(stream_id)
            if snapshot is None or snapshot.format != snapshot_format:
                snapshot = None
            after = snapshot.version if snapshot is not None else 0
            tail = self._streams.get(stream_id, [])[after:]
        return LoadedStream(snapshot, tuple(decode(stored) for stored in tail))

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        check_stream_id(stream_id)
        check_version(after_version, "after_version")
        with self._lock:
            snapshot = self._streams.get(stream_id, [])[after_version:]
        return (decode(stored) for stored in snapshot)

    def last_version(self, stream_id: str) -> int:
        check_stream_id(stream_id)
        with self._lock:
            return len(self._streams.get(stream_id, []))
