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


class EventStore(Protocol):
    def append(self, stream_id: str, expected_version: int, events: Sequence[NewEvent]) -> int:
        """Append atomically if the stream is at `expected_version` (0: it must not exist).

        Returns the stream's new version. Raises `ConcurrencyError` when the stream is at
        another version, and an `AppendRefusedError` for an invalid batch; either way
        nothing is written.
        """
        ...

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        """The stream's events after `after_version`, in order (empty for no stream)."""
        ...

    def last_version(self, stream_id: str) -> int:
        """The stream's current version; 0 when it does not exist."""
        ...
