"""Building blocks of the view tests: recorded events, and a projection of them in memory."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from events import Event, EventMetadata
from infra.eventstore import RecordedEvent
from infra.readmodels import VIEWS, DocKey, InMemoryReadModelStore, JsonObject, Projector, Target
from infra.readmodels.documents import decode
from infra.readmodels.reader import ReadModels
from infra.readmodels.views import pairs, plans, rounds

T0 = datetime(2016, 1, 4, 9, tzinfo=UTC)


def recorded(
    stream_id: str, version: int, event: Event, *, actor: str = "staff:programme-office"
) -> RecordedEvent:
    at = T0 + timedelta(hours=version)
    return RecordedEvent(
        stream_id,
        version,
        event,
        EventMetadata(
            event_id=f"{stream_id}-{version}",
            occurred_at=at,
            recorded_at=at + timedelta(seconds=1),
            correlation_id=f"corr-{version}",
            causation_id=f"corr-{version}",
            actor=actor,
        ),
    )


def stream(stream_id: str, *events: Event) -> list[RecordedEvent]:
    """The events as a stream's versions 1, 2, …"""
    return [recorded(stream_id, n, event) for n, event in enumerate(events, start=1)]


def projected(events: Iterable[RecordedEvent]) -> InMemoryReadModelStore:
    """Every view of the events, applied one by one as the projector applies them."""
    store = InMemoryReadModelStore()
    projector = Projector(VIEWS.values(), store)
    targets = projector.targets()
    for event in events:
        projector.project(event, targets)
    return store


def document(store: InMemoryReadModelStore, view: str, key: DocKey) -> JsonObject | None:
    """A document as the queries read it: a round's overview, pairs and plans put together
    from the round's own document and its pairs' (`ReadModels`), any other as stored."""
    reader = ReadModels(store)
    round_documents = {
        (rounds.NAME, "overview"): reader.round,
        (pairs.NAME, "pairs"): reader.pairs,
        (plans.NAME, "plans"): reader.plans,
    }
    read = round_documents.get((view, key.sort))
    if read is not None and key.partition.startswith("round#"):
        return read(key.partition.removeprefix("round#"))
    text = store.document(Target(view, store.active_generation(view)), key)
    return None if text is None else decode(text)


def documents(store: InMemoryReadModelStore, view: str) -> dict[DocKey, JsonObject]:
    target = Target(view, store.active_generation(view))
    return {key: decode(text) for key, text in store.items(target)}
