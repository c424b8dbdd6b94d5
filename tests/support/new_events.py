"""Events ready to append: payloads with a deterministic envelope, numbered to tell apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from events import AgencyAdmitted, Event, EventMetadata, RoundStarted
from infra.eventstore import NewEvent

T0 = datetime(2015, 3, 2, 9, 0, tzinfo=UTC)
SKV = "202100-5448"


def metadata(n: int = 1) -> EventMetadata:
    return EventMetadata(
        event_id=f"evt-{n}",
        occurred_at=T0 + timedelta(minutes=n),
        recorded_at=T0 + timedelta(minutes=n, microseconds=250),
        correlation_id=f"corr-{n}",
        causation_id=f"cause-{n}",
        actor="staff:handläggare",
    )


def new_event(event: Event, n: int = 1) -> NewEvent:
    return NewEvent(event, metadata(n))


def numbered(count: int, start: int = 1) -> list[NewEvent]:
    """`count` distinct events, numbered from `start` (the number is in the case number)."""
    return [
        new_event(AgencyAdmitted(org_number=SKV, case_number=f"ESV {n}"), n)
        for n in range(start, start + count)
    ]


def number_of(event: Event) -> int:
    """The number `numbered` gave an event."""
    if not isinstance(event, AgencyAdmitted) or event.case_number is None:
        raise TypeError(f"not a numbered event: {event!r}")
    return int(event.case_number.removeprefix("ESV "))


def event_of_about(size: int) -> RoundStarted:
    """A valid event whose payload is about `size` bytes of JSON (a long list of agencies)."""
    # Each entry is `"202100-5448",`: 14 bytes.
    return RoundStarted(due_at=T0, admitted=(SKV,) * (size // 14), unpaired=())
