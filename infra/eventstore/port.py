"""The event store's port: what the command handler and projections need from any backend."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from events import Event, EventMetadata


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended, with the envelope the command handler stamped."""

    event: Event
    metadata: EventMetadata


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as read back: its stream, its position in it (from 1), payload and envelope."""

    stream_id: str
    version: int
    event: Event
    metadata: EventMetadata


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A stream's state folded up to `version`, encoded by its writer.

    `format` names the encoding (and the state's shape): a reader that does not know it
    folds the events instead. A snapshot is derived data; the events stay the record.
    """

    version: int
    format: str
    data: bytes


@dataclass(frozen=True, slots=True)
class LoadedStream:
    """What deciding on a stream needs: its usable snapshot, if any, and every event after it.

    `snapshot_misplaced`: the store keeps the stream's snapshot where it costs more than it
    should (an older layout's): a writer that keeps snapshots should keep one with its next
    append, whenever it would otherwise have waited.
    """

    snapshot: Snapshot | None
    events: tuple[RecordedEvent, ...]
    snapshot_misplaced: bool = False

    @property
    def version(self) -> int:
        """The stream's version as loaded (0: no stream)."""
        if self.events:
            return self.events[-1].version
        return self.snapshot.version if self.snapshot is not None else 0


class EventStore(Protocol):
    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        snapshot: Snapshot | None = None,
    ) -> int:
        """Append atomically if the stream is at `expected_version` (0: it must not exist).

        With a `snapshot` (of the stream as it is after these events), it is kept with the
        stream in the same atomic write, replacing the previous one; without, the previous
        one stays (how often to keep one is the writer's choice).

        Returns the stream's new version. Raises `ConcurrencyError` when the stream is at
        another version, and an `AppendRefusedError` for an invalid batch; either way
        nothing is written.
        """
        ...

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        """The stream's latest snapshot in `snapshot_format` and the events after it; every
        event when there is none in that format (or no format is asked for)."""
        ...

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        """The stream's events after `after_version`, in order (empty for no stream)."""
        ...

    def last_version(self, stream_id: str) -> int:
        """The stream's current version; 0 when it does not exist."""
        ...
