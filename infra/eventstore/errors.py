"""What an event store raises: a conflict to retry on fresh state, or an append it refuses."""

from __future__ import annotations


class EventStoreError(Exception):
    """Base of every event-store error."""


class ConcurrencyError(EventStoreError):
    """The stream was not at the expected version: someone else wrote first (or nobody did).

    Nothing of the append was written; the caller re-reads the stream and decides again.
    `actual` is the stream's version as observed just after the conflict, when known.
    """

    def __init__(self, stream_id: str, expected: int, actual: int | None = None) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual
        found = "unknown" if actual is None else str(actual)
        super().__init__(
            f"stream {stream_id!r}: expected version {expected}, but it is at version {found}"
        )


class AppendRefusedError(EventStoreError, ValueError):
    """The append itself is invalid; it was refused before anything was written."""


class EmptyAppendError(AppendRefusedError):
    """An append must carry at least one event (an empty one would only race for nothing)."""


class SnapshotRefusedError(AppendRefusedError):
    """The snapshot given with an append is not of the stream that append leaves, or too large."""


class TooManyEventsError(AppendRefusedError):
    """More events than one atomic write can hold."""


class EventTooLargeError(AppendRefusedError):
    """One event is larger than a single stored item may be."""

    def __init__(self, event_type: str, size: int, limit: int) -> None:
        self.event_type = event_type
        self.size = size
        self.limit = limit
        super().__init__(
            f"{event_type} event is {size} bytes stored, over the {limit}-byte item limit"
        )


class AppendTooLargeError(AppendRefusedError):
    """The events of one append together exceed what one atomic write may carry."""

    def __init__(self, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            f"the append's events are {size} bytes stored together, over the "
            f"{limit}-byte limit of one atomic write"
        )
