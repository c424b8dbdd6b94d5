"""Rebuilding views from the event store into a new generation, while writes go on."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from rich.console import Console

from infra.eventstore import (
    DynamoDBEventStore,
    EventStore,
    InMemoryEventStore,
    NewEvent,
    RecordedEvent,
)
from infra.readmodels import (
    VIEWS,
    Checkpoint,
    Commit,
    DocKey,
    DynamoDBReadModelStore,
    GenerationChangedError,
    InMemoryReadModelStore,
    Projector,
    ReadModelStore,
    Target,
)
from infra.readmodels.rebuild import (
    DynamoDBStreamSource,
    KnownStreams,
    Progress,
    Rebuilder,
    StreamSource,
)
from infra.readmodels.views import rounds
from programme.rebuild import rebuild_command, run_rebuild
from tests.readmodels.given import projected
from tests.readmodels.scenario import ROUND_3, ROUND_4, scenario, seed
from tests.readmodels.test_projector_function import interleave
from tests.support.aws import REGION
from tests.support.stack import FunctionsEnv

ROUND_4_STREAM = f"round-{ROUND_4}"


@dataclass
class Stack:
    """An event store, a way to list its streams, and the read models."""

    events: EventStore
    source: StreamSource
    read_models: ReadModelStore

    def all_events(self) -> list[RecordedEvent]:
        return [
            event for stream_id, _ in self.source.streams() for event in self.events.read(stream_id)
        ]

    def active(self, view: str) -> list[tuple[DocKey, str]]:
        return sorted(
            self.read_models.items(Target(view, self.read_models.active_generation(view)))
        )


@pytest.fixture(params=["memory", "dynamodb"])
def stack(request: pytest.FixtureRequest) -> Stack:
    if request.param == "memory":
        events = InMemoryEventStore()
        return Stack(
            events, KnownStreams(events, scenario().stream_ids()), InMemoryReadModelStore()
        )
    tables: dict[str, str] = request.getfixturevalue("template_tables")
    client = boto3.client("dynamodb", region_name=REGION)
    return Stack(
        DynamoDBEventStore(client, tables["EventStoreTable"]),
        DynamoDBStreamSource(client, tables["EventStoreTable"]),
        DynamoDBReadModelStore(client, tables["ReadModelTable"], pointer_max_age=0),
    )


def project(stack: Stack, events: list[RecordedEvent]) -> None:
    projector = Projector(VIEWS.values(), stack.read_models)
    for event in events:
        projector.project(event)


def assert_active_equals_a_projection_of(stack: Stack, events: list[RecordedEvent]) -> None:
    expected = projected(events)
    for name in VIEWS:
        assert stack.active(name) == sorted(expected.items(Target(name, 1))), name


def test_a_rebuild_replaces_wrong_documents_with_a_projection_from_scratch(stack: Stack) -> None:
    # GIVEN the scenario projected, then a view's documents damaged (say, by a fixed bug)
    seed(stack.events, scenario().events)
    project(stack, list(scenario().events))
    key = rounds.overview_key(ROUND_4)
    damaged = stack.read_models.checkpoints(ROUND_4_STREAM)[Target("rounds", 1)]
    stack.read_models.commit(
        [
            Commit(
                Target("rounds", 1),
                ROUND_4_STREAM,
                damaged.version,
                Checkpoint(damaged.version + 1),
                {key: '{"wrong":true}'},
            )
        ]
    )
    # WHEN every view is rebuilt
    reports: list[Progress] = []
    rebuilder = Rebuilder(list(VIEWS.values()), stack.read_models, stack.source)
    started = rebuilder.start()
    done = rebuilder.replay(started.generations, lambda p: reports.append(Progress(**vars(p))))
    previous = rebuilder.switch(started.generations)
    dropped = rebuilder.drop(previous.items())
    # THEN readers read generation 2, a projection of every event from scratch
    assert started.generations == dict.fromkeys(VIEWS, 2)
    assert previous == dict.fromkeys(VIEWS, 1)
    assert_active_equals_a_projection_of(stack, list(scenario().events))
    # AND generation 1 is gone, documents and checkpoints
    assert dropped > 0
    assert all(list(stack.read_models.items(Target(name, 1))) == [] for name in VIEWS)
    assert {t.generation for t in stack.read_models.checkpoints(ROUND_4_STREAM)} == {2}
    # AND the progress counted every event once, ending complete
    assert (done.events_done, done.streams_done) == (len(scenario().events), 4)
    assert reports[-1].events_done == reports[-1].events_total == len(scenario().events)
    assert [r.events_done for r in reports] == sorted(r.events_done for r in reports)


def test_rebuilding_one_view_leaves_the_others_where_they_are(stack: Stack) -> None:
    seed(stack.events, scenario().events)
    project(stack, list(scenario().events))
    rebuilder = Rebuilder([VIEWS["plans"]], stack.read_models, stack.source)
    started = rebuilder.start()
    rebuilder.replay(started.generations)
    rebuilder.switch(started.generations)
    assert {name: stack.read_models.active_generation(name) for name in VIEWS} == {
        **dict.fromkeys(VIEWS, 1),
        "plans": 2,
    }
    assert_active_equals_a_projection_of(stack, list(scenario().events))


def test_a_rebuild_started_again_supersedes_one_left_unfinished(stack: Stack) -> None:
    # GIVEN a rebuild that started and stopped half way
    seed(stack.events, scenario().events)
    abandoned = Rebuilder([VIEWS["audit"]], stack.read_models, stack.source)
    first = abandoned.start()
    # WHEN another rebuild of the view runs
    rebuilder = Rebuilder([VIEWS["audit"]], stack.read_models, stack.source)
    second = rebuilder.start()
    rebuilder.replay(second.generations)
    rebuilder.switch(second.generations)
    # THEN it names the abandoned generation to drop, and that one can never switch
    assert second.abandoned == first.generations == {"audit": 2}
    with pytest.raises(GenerationChangedError):
        abandoned.switch(first.generations)
    assert stack.read_models.active_generation("audit") == 3


def test_a_rebuild_while_another_thread_appends_and_projects_equals_a_projection_of_all(
    stack: Stack,
) -> None:
    # GIVEN the first parts of rounds 3 and 4 appended and projected
    events = list(scenario().events)
    round_3, round_4 = (scenario().stream(f"round-{r}") for r in (ROUND_3, ROUND_4))
    start = round_3[:20] + round_4[:12]
    seed(stack.events, start)
    project(stack, start)
    # AND the rest to come, in three phases: while round 3 is replayed (to both rounds),
    # while round 4 is (to round 4, and to round 3 already replayed: only the projector can
    # bring those), and after the switch (new streams among them)
    phases = [
        interleave(round_4[12:16], round_3[20:24]),
        interleave(round_4[16:19], round_3[24:30]),
        round_4[19:] + round_3[30:] + [e for e in events if not e.stream_id.startswith("round-")],
    ]
    later = [event for phase in phases for event in phase]
    # AND a writer thread that appends and projects one event (a batch) when let go
    go = threading.Semaphore(0)
    step = threading.Condition()
    appended: list[RecordedEvent] = []
    failures: list[BaseException] = []

    def writer() -> None:
        projector = Projector(VIEWS.values(), stack.read_models)
        try:
            for event in later:
                go.acquire()
                new = NewEvent(event.event, event.metadata)
                stack.events.append(event.stream_id, event.version - 1, [new])
                projector.project(event, projector.targets())  # targets read per batch
                with step:
                    appended.append(event)
                    step.notify_all()
        except BaseException as error:
            failures.append(error)
            raise

    released = 0
    replaying: list[int] = []

    def let_go(progress: Progress) -> None:
        # At each report, one step of the current phase, running alongside the rebuild's
        # next stretch of work (the previous step is done before the next is let go).
        nonlocal released
        with step:
            step.wait_for(lambda: len(appended) >= released or bool(failures), timeout=30)
        phase = min(progress.streams_done, 1)
        if released < sum(len(p) for p in phases[: phase + 1]):
            replaying.append(progress.streams_done)
            released += 1
            go.release()

    thread = threading.Thread(target=writer)
    thread.start()
    # WHEN every view is rebuilt in small chunks, the writer going on beside it
    rebuilder = Rebuilder(list(VIEWS.values()), stack.read_models, stack.source, flush_items=2)
    started = rebuilder.start()
    rebuilder.replay(started.generations, let_go)
    previous = rebuilder.switch(started.generations)
    for _ in phases[2]:
        go.release()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert failures == []
    rebuilder.drop(previous.items())
    # (each phase's steps were let go while its stream was replayed)
    assert replaying == [0] * len(phases[0]) + [1] * len(phases[1])
    # THEN every view, in its new generation, equals a projection of all events from scratch
    assert stack.read_models.active_generation("rounds") == 2
    assert len(stack.all_events()) == len(events)
    assert_active_equals_a_projection_of(stack, stack.all_events())


class RacingStore:
    """A store that, just before its first commit, lets `race` run (a projector, say)."""

    def __init__(self, store: ReadModelStore, race: Callable[[], None]) -> None:
        self._store = store
        self._race: Callable[[], None] | None = race

    def commit(self, commits: Sequence[Commit]) -> None:
        if self._race is not None:
            race, self._race = self._race, None
            race()
        self._store.commit(commits)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_rebuild_that_loses_a_race_to_the_projector_goes_on_from_its_checkpoints(
    stack: Stack,
) -> None:
    # GIVEN round 4 in the event store, and a projector that applies its first three events
    # to every generation just as the rebuild is about to commit its first chunk
    round_4 = scenario().stream(ROUND_4_STREAM)
    seed(stack.events, round_4)

    def projector_first() -> None:
        projector = Projector(VIEWS.values(), stack.read_models)
        for event in round_4[:3]:
            projector.project(event)

    racing = RacingStore(stack.read_models, projector_first)
    rebuilder = Rebuilder(list(VIEWS.values()), racing, stack.source, flush_items=2)
    started = rebuilder.start()
    # WHEN the rebuild replays the stream and switches
    rebuilder.replay(started.generations)
    rebuilder.switch(started.generations)
    # THEN its first commit lost, it went on from the projector's checkpoints, and readers
    # see the whole stream applied once
    assert {cp.version for cp in stack.read_models.checkpoints(ROUND_4_STREAM).values()} == {
        len(round_4),
        3,  # generation 1, which only the projector fed
    }
    assert_active_equals_a_projection_of(stack, round_4)


def test_the_rebuild_command_rebuilds_on_the_functions_tables_and_shows_its_progress(
    functions_env: FunctionsEnv, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the scenario in the functions' event store, its read models projected
    client = boto3.client("dynamodb", region_name=REGION)
    events = DynamoDBEventStore(client, functions_env.tables["EventStoreTable"])
    seed(events, scenario().events)
    read_models = DynamoDBReadModelStore(client, functions_env.tables["ReadModelTable"])
    projector = Projector(VIEWS.values(), read_models)
    for event in scenario().events:
        projector.project(event)
    # WHEN `programme rebuild rounds` runs, with no grace period
    exit_code = rebuild_command(argparse.Namespace(view="rounds", grace=0.0, keep_old=False))
    # THEN it succeeds, tells what it did, and readers read generation 2 of `rounds`
    out = capsys.readouterr().out
    assert exit_code == 0
    assert f"{len(scenario().events)} events of 4 streams" in out
    assert "Deleted" in out
    assert read_models.generations()["rounds"].active == 2
    assert "pairs" not in read_models.generations()


def test_the_command_waits_the_grace_period_before_deleting_or_keeps_the_old_generation() -> None:
    events = InMemoryEventStore()
    seed(events, scenario().events)
    store = InMemoryReadModelStore()
    source = KnownStreams(events, scenario().stream_ids())
    console = Console(record=True, width=120)
    waited: list[float] = []
    run_rebuild([VIEWS["audit"]], store, source, console=console, grace=12.5, sleep=waited.append)
    run_rebuild(
        [VIEWS["audit"]], store, source, console=console, keep_old=True, sleep=waited.append
    )
    assert waited == [12.5]
    assert "Kept the replaced generations: audit 2" in console.export_text()
    assert store.generations()["audit"].active == 3
    assert list(store.items(Target("audit", 2))) != []


def test_the_event_stores_tip_items_are_no_events_to_list_or_replay(
    template_tables: dict[str, str],
) -> None:
    # GIVEN the scenario in the DynamoDB event store, and stream tips (version 0: the head and
    # a snapshot, no type nor payload) put raw beside the events: one, ahead of its stream's
    # events, for a stream that has them, and one for a stream that has no event at all
    client = boto3.client("dynamodb", region_name=REGION)
    table = template_tables["EventStoreTable"]
    seed(DynamoDBEventStore(client, table), scenario().events)
    for stream_id, head in ((ROUND_4_STREAM, 999), ("round-2099-9", 4)):
        tip: dict[str, Any] = {
            "stream_id": {"S": stream_id},
            "version": {"N": "0"},
            "head": {"N": str(head)},
            "snapshot": {"B": b"\x78\x9c\x03\x00\x00\x00\x00\x01"},
            "snapshot_format": {"S": "round-state/1"},
            "snapshot_version": {"N": str(head)},
        }
        client.put_item(TableName=table, Item=tip)
    source = DynamoDBStreamSource(client, table)
    # THEN the streams listed are those with events, each at its last event's version
    assert source.streams() == sorted(
        (stream_id, len(scenario().stream(stream_id))) for stream_id in scenario().stream_ids()
    )
    # AND a rebuild from them equals a projection of the events, counted once each
    read_models = InMemoryReadModelStore()
    rebuilder = Rebuilder(list(VIEWS.values()), read_models, source)
    started = rebuilder.start()
    done = rebuilder.replay(started.generations)
    rebuilder.switch(started.generations)
    assert done.events_done == done.events_total == len(scenario().events)
    expected = projected(scenario().events)
    for name in VIEWS:
        rebuilt = read_models.items(Target(name, started.generations[name]))
        assert sorted(rebuilt) == sorted(expected.items(Target(name, 1))), name
