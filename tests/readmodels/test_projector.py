"""The projector's core: each event applied once per view, in order, whatever the delivery."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from infra.eventstore import RecordedEvent
from infra.readmodels import (
    VIEWS,
    Applied,
    Commit,
    InMemoryReadModelStore,
    JsonObject,
    Outcome,
    Projector,
    ReadModelStore,
    StreamGapError,
    Target,
    ViewFailedError,
)
from infra.readmodels.documents import decode
from infra.readmodels.views import audit, rounds
from tests.readmodels.given import projected
from tests.readmodels.scenario import ROUND_4, scenario

ROUND_4_STREAM = f"round-{ROUND_4}"


def round_4() -> list[RecordedEvent]:
    return scenario().stream(ROUND_4_STREAM)


def overview(store: ReadModelStore) -> JsonObject:
    text = store.document(Target("rounds", 1), rounds.overview_key(ROUND_4))
    assert text is not None
    return decode(text)


def trail(store: ReadModelStore) -> list[int]:
    found = store.documents(Target("audit", 1), audit.audit_partition(ROUND_4))
    return [decode(text)["version"] for _, text in found]


def snapshot(store: ReadModelStore) -> dict[str, Any]:
    return {name: sorted(store.items(Target(name, 1))) for name in VIEWS}


def test_an_event_delivered_again_changes_nothing(read_store: ReadModelStore) -> None:
    # GIVEN the first events of a round, projected
    projector = Projector(VIEWS.values(), read_store)
    events = round_4()[:5]
    for event in events:
        projector.project(event)
    before = snapshot(read_store)
    # WHEN they are delivered again
    outcomes = [projector.project(event) for event in events]
    # THEN every view saw each as a repeat and nothing changed
    assert outcomes == [Outcome(applied=0, repeats=len(VIEWS))] * len(events)
    assert snapshot(read_store) == before


def test_an_event_ahead_of_its_predecessor_waits_then_applies_in_order(
    read_store: ReadModelStore,
) -> None:
    projector = Projector(VIEWS.values(), read_store)
    first, second, third = round_4()[:3]
    projector.project(first)
    # WHEN version 3 arrives before version 2
    with pytest.raises(StreamGapError) as gap:
        projector.project(third)
    # THEN it waits: nothing of it is written, and every view is named as behind
    assert gap.value.behind == dict.fromkeys(VIEWS, 1)
    assert trail(read_store) == [1]
    # WHEN version 2 comes, and 3 again
    projector.project(second)
    projector.project(third)
    # THEN both are applied, in order
    assert trail(read_store) == [1, 2, 3]
    assert overview(read_store)["applied"] == 1


def test_a_generation_being_built_skips_events_it_has_not_caught_up_to(
    read_store: ReadModelStore,
) -> None:
    # GIVEN the active generation at version 3 and a rebuild just started
    projector = Projector(VIEWS.values(), read_store)
    for event in round_4()[:3]:
        projector.project(event)
    generation, _ = read_store.start_generation("audit")
    # WHEN version 4 is projected
    outcome = projector.project(round_4()[3])
    # THEN the active generations apply it; the new one leaves it to the rebuild, without waiting
    assert outcome == Outcome(applied=len(VIEWS), repeats=0, skipped=1)
    assert trail(read_store) == [1, 2, 3, 4]
    assert list(read_store.items(Target("audit", generation))) == []


def test_a_new_stream_starts_in_a_generation_being_built(read_store: ReadModelStore) -> None:
    # GIVEN a rebuild started before a round's first event
    generation, _ = read_store.start_generation("audit")
    projector = Projector(VIEWS.values(), read_store)
    # WHEN the round's first events are projected
    for event in round_4()[:2]:
        projector.project(event)
    # THEN the new generation has them too (nothing to catch up to at version 1)
    found = read_store.documents(Target("audit", generation), audit.audit_partition(ROUND_4))
    assert [decode(text)["version"] for _, text in found] == [1, 2]


class BrokenView:
    """Fails on the events of one type, like a view with a bug."""

    name = "broken"

    def __init__(self, fails_on: str) -> None:
        self.fails_on = fails_on

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        if recorded.event.type == self.fails_on:
            raise ValueError("a bug")
        return Applied({"seen": recorded.version})


def test_a_view_that_fails_stops_only_itself_and_holds_its_stream(
    read_store: ReadModelStore,
) -> None:
    broken = BrokenView(fails_on="ApplicationsOpened")
    projector = Projector([*VIEWS.values(), broken], read_store)
    first, second, third = round_4()[:3]
    projector.project(first)
    # WHEN a view fails on an event
    with pytest.raises(ViewFailedError) as failed:
        projector.project(second)
    # THEN the others applied it; the failing one did not, and waits at the next event
    assert failed.value.views == ("broken",)
    assert trail(read_store) == [1, 2]
    with pytest.raises(StreamGapError) as gap:
        projector.project(third)
    assert gap.value.behind == {"broken": 1}
    # WHEN the bug is fixed and the events are delivered again
    broken.fails_on = "nothing"
    projector.project(second)
    projector.project(third)
    # THEN the fixed view catches up, and no other view applied anything twice
    assert read_store.checkpoints(ROUND_4_STREAM)[Target("broken", 1)].version == 3
    assert trail(read_store) == [1, 2, 3]
    assert overview(read_store)["applied"] == 1


class MeetingStore:
    """A store whose first commit in each thread waits until every racer has computed theirs."""

    def __init__(self, store: ReadModelStore, barrier: threading.Barrier) -> None:
        self._store = store
        self._barrier = barrier
        self._met = threading.local()

    def commit(self, commits: Sequence[Commit]) -> None:
        if not getattr(self._met, "done", False):
            self._met.done = True
            self._barrier.wait(timeout=10)
        self._store.commit(commits)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_two_projectors_racing_on_one_event_apply_it_once(read_store: ReadModelStore) -> None:
    # GIVEN the round's first events projected, and two projectors about to race
    for event in round_4()[:2]:
        Projector(VIEWS.values(), read_store).project(event)
    barrier = threading.Barrier(2)
    racers = [Projector(VIEWS.values(), MeetingStore(read_store, barrier)) for _ in range(2)]
    applied = round_4()[2]  # an application: counted once, or twice if applied twice
    # WHEN both read the checkpoints, compute, and commit at the same moment
    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda p: p.project(applied), racers))
    # THEN one applied it everywhere and the other found it already applied
    assert sorted(outcomes, key=lambda o: o.applied) == [
        Outcome(applied=0, repeats=len(VIEWS)),
        Outcome(applied=len(VIEWS), repeats=0),
    ]
    assert overview(read_store)["applied"] == 1
    assert trail(read_store) == [1, 2, 3]


def test_a_projection_equals_the_events_applied_in_any_delivery_with_repeats_and_gaps() -> None:
    # GIVEN every scenario event, delivered with repeats and early arrivals, retried in rounds
    # (in memory: the stores' part is their contract, this is the projector's)
    events = scenario().events
    read_store = InMemoryReadModelStore()
    projector = Projector(VIEWS.values(), read_store)
    pending = list(_shuffled_with_repeats(events))
    while pending:
        waiting = []
        for event in pending:
            try:
                projector.project(event)
            except StreamGapError:
                waiting.append(event)
        assert len(waiting) < len(pending)  # each pass makes progress
        pending = waiting
    # THEN the documents are those of the events applied once, in order
    in_order = projected(events)
    for name in VIEWS:
        assert sorted(read_store.items(Target(name, 1))) == sorted(in_order.items(Target(name, 1)))


def _shuffled_with_repeats(events: Sequence[RecordedEvent]) -> Iterator[RecordedEvent]:
    """A fixed, awkward delivery: reversed in blocks of three, every fifth event twice."""
    for start in range(0, len(events), 3):
        for n, event in enumerate(reversed(events[start : start + 3])):
            yield event
            if (start + n) % 5 == 0:
                yield event
