"""The command handler: load, decide, append; retry on a conflict; give up clearly.

Driven by a tiny fake decider (admissions to a round), so these tests pin the handler's
own behaviour whatever the real domain rules say.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest

from domain.streams import round_stream_id
from events import AgencyAdmitted, Event
from infra.command_handler import (
    EVERY_APPEND,
    CommandHandler,
    ConcurrencyRetriesExhaustedError,
    SnapshotPolicy,
    SnapshotUnreadableError,
    full_jitter,
)
from infra.eventstore import (
    ConcurrencyError,
    InMemoryEventStore,
    LoadedStream,
    NewEvent,
    RecordedEvent,
    Snapshot,
)
from infra.eventstore.records import MAX_SNAPSHOT_BYTES
from tests.support.new_events import new_event

STREAM = round_stream_id("2015-3")
T0 = datetime(2015, 2, 16, 8, 0, tzinfo=UTC)
SKV, KV, FMI = "202100-5448", "202100-0225", "202100-6578"

Admitted = frozenset[str]


@dataclass(frozen=True)
class Admit:
    org_numbers: tuple[str, ...]


class RuleBrokenError(Exception):
    pass


@dataclass
class FakeDecider:
    """Admits the agencies not yet admitted; remembers what it was asked."""

    calls: list[tuple[Admit, Admitted | None, datetime]] = field(default_factory=list)
    broken: bool = False

    def __call__(self, command: Admit, state: Admitted | None, now: datetime) -> list[Event]:
        self.calls.append((command, state, now))
        if self.broken:
            raise RuleBrokenError("capacity reached")
        admitted = state or frozenset()
        return [AgencyAdmitted(org_number=o) for o in command.org_numbers if o not in admitted]


def evolve(state: Admitted | None, event: Event) -> Admitted:
    admitted = state or frozenset()
    return admitted | {event.org_number} if isinstance(event, AgencyAdmitted) else admitted


class TickingClock:
    """Each reading is one second after the last, so every reading can be told apart."""

    def __init__(self) -> None:
        self._ticks = itertools.count()

    def __call__(self) -> datetime:
        return T0 + timedelta(seconds=next(self._ticks))


class RivalWrites:
    """A store where another writer commits between our read and each of our first appends."""

    def __init__(self, store: InMemoryEventStore, rivals: Sequence[str]) -> None:
        self.store = store
        self.appends = 0
        self._rivals = iter(rivals)

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        snapshot: Snapshot | None = None,
    ) -> int:
        self.appends += 1
        rival = next(self._rivals, None)
        if rival is not None:
            version = self.store.last_version(stream_id)
            self.store.append(stream_id, version, [new_event(AgencyAdmitted(org_number=rival))])
        return self.store.append(stream_id, expected_version, events, snapshot)

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        return self.store.load(stream_id, snapshot_format)

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        return self.store.read(stream_id, after_version)

    def last_version(self, stream_id: str) -> int:
        return self.store.last_version(stream_id)


def ids() -> Iterator[str]:
    return (f"evt-{n}" for n in itertools.count(1))


def handler(
    store: InMemoryEventStore | RivalWrites, decide: FakeDecider, max_attempts: int = 4
) -> CommandHandler[Admit, Admitted]:
    return CommandHandler(
        store, decide, evolve, TickingClock(), ids().__next__, max_attempts=max_attempts
    )


def admitted_in(store: InMemoryEventStore) -> list[str]:
    return [r.event.org_number for r in store.read(STREAM) if isinstance(r.event, AgencyAdmitted)]


def test_a_command_on_a_new_stream_appends_what_decide_returns() -> None:
    # GIVEN an empty store
    store = InMemoryEventStore()
    # WHEN two agencies are admitted
    result = handler(store, FakeDecider()).handle(
        Admit((SKV, KV)), stream_id=STREAM, actor="staff:anna", correlation_id="req-1"
    )
    # THEN their events are the stream's first two, and the result says so
    assert result.version == 2
    assert result.attempts == 1
    assert [(r.stream_id, r.version) for r in result.events] == [(STREAM, 1), (STREAM, 2)]
    assert list(store.read(STREAM)) == list(result.events)
    assert admitted_in(store) == [SKV, KV]


def test_decide_is_given_the_state_folded_from_the_stream_and_the_time() -> None:
    # GIVEN a stream where one agency is already admitted
    store = InMemoryEventStore()
    store.append(STREAM, 0, [new_event(AgencyAdmitted(org_number=SKV))])
    decide = FakeDecider()
    # WHEN it and another are admitted
    result = handler(store, decide).handle(
        Admit((SKV, KV)), stream_id=STREAM, actor="staff:anna", correlation_id="req-1"
    )
    # THEN decide saw the folded state and the clock's first reading; only the new one is added
    assert decide.calls == [(Admit((SKV, KV)), frozenset({SKV}), T0)]
    assert result.version == 2
    assert admitted_in(store) == [SKV, KV]


def test_each_event_is_stamped_with_its_own_id_the_times_and_who_and_why() -> None:
    # GIVEN a handler with a ticking clock and numbered ids
    store = InMemoryEventStore()
    # WHEN a command caused by an earlier event appends two events
    result = handler(store, FakeDecider()).handle(
        Admit((SKV, KV)),
        stream_id=STREAM,
        actor="staff:anna",
        correlation_id="req-1",
        causation_id="evt-earlier",
    )
    # THEN each has its own id; occurred_at is the time decide saw, recorded_at the next reading
    stored = [r.metadata for r in store.read(STREAM)]
    assert [m.event_id for m in stored] == ["evt-1", "evt-2"]
    assert {m.occurred_at for m in stored} == {T0}
    assert {m.recorded_at for m in stored} == {T0 + timedelta(seconds=1)}
    assert {(m.actor, m.correlation_id, m.causation_id) for m in stored} == {
        ("staff:anna", "req-1", "evt-earlier")
    }
    assert [r.metadata for r in result.events] == stored


def test_a_command_that_starts_a_chain_is_its_own_cause() -> None:
    # GIVEN / WHEN a command handled without a causation id
    store = InMemoryEventStore()
    handler(store, FakeDecider()).handle(
        Admit((SKV,)), stream_id=STREAM, actor="webhook:typeform", correlation_id="delivery-7"
    )
    # THEN the correlation id stands in as the cause
    [recorded] = store.read(STREAM)
    assert recorded.metadata.causation_id == "delivery-7"


def test_a_conflict_is_retried_on_fresh_state_and_then_succeeds() -> None:
    # GIVEN a stream at version 1, and a rival who admits KV just before our first append
    inner = InMemoryEventStore()
    inner.append(STREAM, 0, [new_event(AgencyAdmitted(org_number=FMI))])
    store = RivalWrites(inner, rivals=[KV])
    decide = FakeDecider()
    # WHEN we admit SKV and KV
    result = handler(store, decide).handle(
        Admit((SKV, KV)), stream_id=STREAM, actor="staff:anna", correlation_id="req-1"
    )
    # THEN the second attempt decided on the rival's event and appended only SKV
    assert result.attempts == 2
    assert store.appends == 2
    assert [state for _, state, _ in decide.calls] == [frozenset({FMI}), frozenset({FMI, KV})]
    assert result.version == 3
    assert [r.event for r in result.events] == [AgencyAdmitted(org_number=SKV)]
    assert admitted_in(inner) == [FMI, KV, SKV]


def test_the_handler_gives_up_after_its_attempts_with_a_clear_error() -> None:
    # GIVEN a rival who wins every race
    inner = InMemoryEventStore()
    store = RivalWrites(inner, rivals=[KV, FMI, "202100-1111", "202100-2222"])
    # WHEN a command is handled with three attempts
    with pytest.raises(ConcurrencyRetriesExhaustedError) as gave_up:
        handler(store, FakeDecider(), max_attempts=3).handle(
            Admit((SKV,)), stream_id=STREAM, actor="staff:anna", correlation_id="req-1"
        )
    # THEN it tried three times, says so, keeps the last conflict as the cause, wrote nothing
    assert store.appends == 3
    assert gave_up.value.attempts == 3
    assert gave_up.value.stream_id == STREAM
    assert "3 attempts" in str(gave_up.value)
    assert STREAM in str(gave_up.value)
    assert isinstance(gave_up.value.__cause__, ConcurrencyError)
    assert admitted_in(inner) == [KV, FMI, "202100-1111"]


def test_nothing_is_appended_when_decide_returns_no_events() -> None:
    # GIVEN a stream where both agencies are already admitted
    inner = InMemoryEventStore()
    inner.append(STREAM, 0, [new_event(AgencyAdmitted(org_number=o)) for o in (SKV, KV)])
    store = RivalWrites(inner, rivals=[])
    # WHEN they are admitted again
    result = handler(store, FakeDecider()).handle(
        Admit((SKV, KV)), stream_id=STREAM, actor="staff:anna", correlation_id="req-1"
    )
    # THEN the store is not written to, and the result is the current version
    assert store.appends == 0
    assert (result.version, result.events, result.attempts) == (2, (), 1)
    assert inner.last_version(STREAM) == 2


def test_a_broken_rule_propagates_at_once_and_nothing_is_appended() -> None:
    # GIVEN a decider that refuses the command
    store = RivalWrites(InMemoryEventStore(), rivals=[])
    decide = FakeDecider(broken=True)
    # WHEN / THEN its error reaches the caller unretried
    with pytest.raises(RuleBrokenError):
        handler(store, decide).handle(
            Admit((SKV,)), stream_id=STREAM, actor="staff:anna", correlation_id="req-1"
        )
    assert len(decide.calls) == 1
    assert store.appends == 0


def test_a_handler_needs_at_least_one_attempt() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        handler(InMemoryEventStore(), FakeDecider(), max_attempts=0)


def test_a_rounds_events_live_in_the_round_stream() -> None:
    assert round_stream_id("2015-3") == "round-2015-3"


class AdmittedSnapshots:
    """A codec for the fake state: the admitted org numbers, comma-separated."""

    format = "admitted/1"

    def __init__(self, *, limit: int | None = None, padding: int = 0) -> None:
        self.decoded: list[bytes] = []
        self.encoded = 0
        self._limit = limit  # states with more agencies than this encode oversized
        self._padding = padding  # commas after the org numbers: a larger snapshot, same state

    def encode(self, state: Admitted) -> bytes:
        self.encoded += 1
        if self._limit is not None and len(state) > self._limit:
            return b"x" * (MAX_SNAPSHOT_BYTES + 1)
        return ",".join(sorted(state)).encode() + b"," * self._padding

    def decode(self, data: bytes) -> Admitted:
        self.decoded.append(data)
        if not data.replace(b",", b"").replace(b"-", b"").isdigit():
            raise SnapshotUnreadableError(f"not a list of org numbers: {data[:20]!r}")
        return frozenset(org for org in data.decode().split(",") if org)


def snapshotting(
    store: InMemoryEventStore | MisplacedSnapshots,
    decide: FakeDecider,
    codec: AdmittedSnapshots,
    policy: SnapshotPolicy = SnapshotPolicy(),  # noqa: B008 (frozen)
) -> CommandHandler[Admit, Admitted]:
    return CommandHandler(
        store,
        decide,
        evolve,
        TickingClock(),
        ids().__next__,
        snapshots=codec,
        snapshot_policy=policy,
    )


class MisplacedSnapshots(RivalWrites):
    """A store that says its snapshot is where an older layout kept it."""

    def __init__(self, store: InMemoryEventStore) -> None:
        super().__init__(store, [])

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        loaded = self.store.load(stream_id, snapshot_format)
        return LoadedStream(loaded.snapshot, loaded.events, snapshot_misplaced=True)


def admit(handler: CommandHandler[Admit, Admitted], *orgs: str) -> int:
    return handler.handle(
        Admit(orgs), stream_id=STREAM, actor="staff:a", correlation_id="r"
    ).version


def test_each_append_keeps_a_snapshot_of_the_state_it_leaves() -> None:
    # GIVEN a handler with a snapshot codec
    store, codec = InMemoryEventStore(), AdmittedSnapshots()
    handler = snapshotting(store, FakeDecider(), codec)
    # WHEN two commands append three events
    admit(handler, SKV, KV)
    admit(handler, FMI)
    # THEN the stream's snapshot is of the state after all three, at version 3
    loaded = store.load(STREAM, codec.format)
    assert loaded.snapshot is not None
    assert (loaded.snapshot.version, loaded.snapshot.data) == (
        3,
        b"202100-0225,202100-5448,202100-6578",
    )
    assert loaded.events == ()


def test_a_command_decides_on_the_snapshot_without_folding_the_events() -> None:
    # GIVEN a stream whose last append kept a snapshot
    store, codec, decide = InMemoryEventStore(), AdmittedSnapshots(), FakeDecider()
    handler = snapshotting(store, decide, codec)
    admit(handler, SKV, KV)
    # WHEN another command comes
    admit(handler, KV, FMI)
    # THEN it decided on the decoded snapshot: the state of both events, no event folded
    assert codec.decoded == [b"202100-0225,202100-5448"]
    assert decide.calls[-1][1] == frozenset({SKV, KV})
    assert admitted_in(store) == [SKV, KV, FMI]


def test_an_unreadable_snapshot_is_folded_around_and_replaced() -> None:
    # GIVEN a stream whose snapshot is in the codec's format but does not decode
    store, codec, decide = InMemoryEventStore(), AdmittedSnapshots(), FakeDecider()
    store.append(
        STREAM, 0, [new_event(AgencyAdmitted(org_number=SKV))], Snapshot(1, codec.format, b"?!")
    )
    # WHEN a command comes
    admit(snapshotting(store, decide, codec), KV)
    # THEN it decided on the folded events, and its append kept a readable snapshot
    assert decide.calls[-1][1] == frozenset({SKV})
    loaded = store.load(STREAM, codec.format)
    assert loaded.snapshot == Snapshot(2, codec.format, b"202100-0225,202100-5448")


def test_a_state_too_large_for_a_snapshot_is_appended_without_one() -> None:
    # GIVEN a codec whose encoding outgrows the snapshot limit past one agency
    store, codec, decide = InMemoryEventStore(), AdmittedSnapshots(limit=1), FakeDecider()
    handler = snapshotting(store, decide, codec)
    admit(handler, SKV)
    # WHEN a command leaves a state too large to keep
    admit(handler, KV)
    # THEN its events are appended all the same, the last snapshot that fitted is kept,
    # and the next command folds the event after it
    loaded = store.load(STREAM, codec.format)
    assert loaded.snapshot == Snapshot(1, codec.format, SKV.encode())
    assert [r.version for r in loaded.events] == [2]
    admit(handler, FMI)
    assert decide.calls[-1][1] == frozenset({SKV, KV})
    assert admitted_in(store) == [SKV, KV, FMI]


def kept_versions(store: InMemoryEventStore, codec: AdmittedSnapshots) -> int | None:
    snapshot = store.load(STREAM, codec.format).snapshot
    return snapshot.version if snapshot is not None else None


def orgs(count: int) -> list[str]:
    return [f"202100-{n:04d}" for n in range(count)]


def test_a_large_state_is_kept_every_so_many_events_not_with_every_append() -> None:
    # GIVEN a codec whose snapshots are 1.5-1.9 KB (2 KB billed: 4 events between them), and
    # one whose are 2.1-2.7 KB (6 events between them)
    for padding, interval in ((1_500, 4), (2_100, 6)):
        store, codec, decide = (
            InMemoryEventStore(),
            AdmittedSnapshots(padding=padding),
            FakeDecider(),
        )
        handler = snapshotting(store, decide, codec)
        assert SnapshotPolicy().interval(padding + 11) == interval
        # WHEN single-event commands come, one after another
        kept: list[int | None] = []
        for org in orgs(2 * interval + 3):
            admit(handler, org)
            kept.append(kept_versions(store, codec))
        # THEN a snapshot was kept by the first append, then every `interval` events after
        assert sorted({v for v in kept if v is not None}) == [1, 1 + interval, 1 + 2 * interval]
        # AND the state was encoded only for the appends that kept it
        assert codec.encoded == 3
        # AND each command decided on the state of every event before it
        assert decide.calls[-1][1] == frozenset(orgs(2 * interval + 2))
        assert admitted_in(store) == orgs(2 * interval + 3)


def test_a_small_state_is_kept_with_every_append_and_so_is_every_state_under_every_append() -> None:
    # GIVEN a small snapshot (kept with every append) and a large one under EVERY_APPEND
    for padding, policy in ((0, SnapshotPolicy()), (5_000, EVERY_APPEND)):
        store, codec = InMemoryEventStore(), AdmittedSnapshots(padding=padding)
        handler = snapshotting(store, FakeDecider(), codec, policy)
        # WHEN three commands come / THEN each kept a snapshot at its version
        for version, org in enumerate(orgs(3), 1):
            admit(handler, org)
            assert kept_versions(store, codec) == version


def test_a_snapshot_the_store_says_is_misplaced_is_kept_again_with_the_next_append() -> None:
    # GIVEN a large snapshot at version 1, which the store says is misplaced
    inner, codec, decide = InMemoryEventStore(), AdmittedSnapshots(padding=5_000), FakeDecider()
    admit(snapshotting(inner, decide, codec), SKV)
    assert kept_versions(inner, codec) == 1
    # WHEN the next command comes, long before one would be due
    admit(snapshotting(MisplacedSnapshots(inner), decide, codec), KV)
    # THEN its append kept one
    assert kept_versions(inner, codec) == 2


def test_a_loaded_stream_tells_the_handler_when_a_snapshot_is_due() -> None:
    # GIVEN a large snapshot kept at version 1 (2 KB billed: the next one due at 5)
    store, codec = InMemoryEventStore(), AdmittedSnapshots(padding=1_500)
    handler = snapshotting(store, FakeDecider(), codec)
    admit(handler, SKV)
    # WHEN / THEN the handler's look says so; with no snapshot codec, one is due at once
    assert handler.load(STREAM).snapshot_due == 5
    assert snapshotting(InMemoryEventStore(), FakeDecider(), codec).load(STREAM).snapshot_due == 0


@pytest.mark.parametrize(
    ("size", "interval"),
    [(0, 1), (768, 1), (769, 2), (1024, 2), (1025, 4), (71 * 1024, 142), (390_000, 500)],
)
def test_the_policy_spreads_a_large_snapshots_write_over_events_per_kb(
    size: int, interval: int
) -> None:
    assert SnapshotPolicy().interval(size) == interval
    assert EVERY_APPEND.interval(size) == 1


def test_each_retry_waits_a_pause_that_grows_with_the_retries() -> None:
    # GIVEN a store where rivals win the first three appends, and a handler that records pauses
    store = RivalWrites(InMemoryEventStore(), [SKV, KV, FMI])
    slept: list[float] = []
    handler = CommandHandler(
        store,
        FakeDecider(),
        evolve,
        TickingClock(),
        ids().__next__,
        pause=lambda retry: retry / 100,
        sleep=slept.append,
    )
    # WHEN a command loses three races and wins the fourth
    result = handler.handle(
        Admit(("202100-4979",)), stream_id=STREAM, actor="a", correlation_id="c"
    )
    # THEN it paused before each retry, by the pause for that retry, and not after winning
    assert result.attempts == 4
    assert slept == [0.01, 0.02, 0.03]


@pytest.mark.parametrize("retry", [1, 2, 5, 10])
def test_full_jitter_stays_between_zero_and_its_doubling_bound(retry: int) -> None:
    bound = min(0.2, 0.005 * 2**retry)
    pauses = [full_jitter(retry) for _ in range(200)]
    assert all(0 <= pause <= bound for pause in pauses)
    assert max(pauses) > bound / 2  # spread over the range, not stuck at one end
