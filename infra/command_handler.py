"""The one command handler: load the stream, decide, append — and retry on a conflict.

Decide and evolve come from the domain; the store, clock and id source from the composition
root. Given a `SnapshotCodec`, the handler keeps snapshots of the state with the appends
that leave it, so a command loads the last snapshot and the few events after it instead of
folding the whole stream: a small state with every append, a larger one every so many
events, as its `SnapshotPolicy` says (a large snapshot is rewritten whole each time it is
kept). A snapshot it cannot use (another format, unreadable, or none) only means folding
the events, as without a codec.

Retrying on a concurrency conflict lives here and nowhere else, after a pause drawn at random
up to a bound that doubles with each retry ("full jitter": racers that lost together do not
come back together). Each retry is reported to an optional `on_retry` callback (the
composition root counts and logs them), so how often commands lose races is observable
without this module knowing about metrics or logs.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Generic, Protocol, TypeVar

from events import Event, EventMetadata
from infra.clock import Clock
from infra.eventstore import (
    ConcurrencyError,
    EventStore,
    LoadedStream,
    NewEvent,
    RecordedEvent,
    Snapshot,
    is_unavailable,
)
from infra.eventstore.records import MAX_SNAPSHOT_BYTES

CommandT = TypeVar("CommandT")
StateT = TypeVar("StateT")


class SnapshotUnreadableError(ValueError):
    """A snapshot in the codec's format that does not decode: the events are folded instead."""


class SnapshotCodec(Protocol[StateT]):
    """Encodes a stream's state for keeping with it; `format` changes whenever the encoding
    or what the state means changes, so no reader decodes a snapshot it cannot trust."""

    @property
    def format(self) -> str: ...

    def encode(self, state: StateT) -> bytes: ...

    def decode(self, data: bytes) -> StateT:
        """The state; raises `SnapshotUnreadableError` for data it cannot decode."""
        ...


@dataclass(frozen=True, slots=True)
class SnapshotPolicy:
    """When the handler keeps a snapshot with an append.

    A state that encodes up to `small_bytes` is kept with every append: a store keeps it
    beside the head it writes anyway (DynamoDB: in the stream's tip, billed per KB), so it
    costs nothing more. A larger one is written whole each time it is kept (DynamoDB: 2 write
    units per KB), so it is kept again once `events_per_kb` events for each KB of the last
    one have been appended since it, and at most `most_events`: its write is spread over
    that many appends (about 2 / `events_per_kb` write units each), and a load reads at
    most that many events after it.
    """

    small_bytes: int = 768
    # 2, not more: the tail a load reads then stays about the snapshot's own size. At 8 (a
    # snapshot's write spread over 4x as many appends) the mean write was 4.25 WRU per command
    # against 5, but loads read and decoded 4x the tail: priced at AWS's on-demand rates
    # (a WRU 5x a RRU) 2 is cheaper, and the local burst's CPU per request fell from 127 to
    # 88 ms (bench/burst.py, 500-applicant round); 1 saved no more.
    events_per_kb: int = 2
    most_events: int = 500

    def interval(self, size: int) -> int:
        """Events from a kept snapshot of `size` bytes to the next one kept."""
        if size <= self.small_bytes:
            return 1
        return max(1, min(self.most_events, self.events_per_kb * math.ceil(size / 1024)))


EVERY_APPEND: Final = SnapshotPolicy(small_bytes=MAX_SNAPSHOT_BYTES)
"""A snapshot with every append, whatever its size (how the handler kept them before)."""


def full_jitter(retry: int, *, base: float = 0.005, cap: float = 0.2) -> float:
    """Seconds to pause before retry `retry` (1 for the first): uniform up to base * 2^retry."""
    return random.uniform(0.0, min(cap, base * 2**retry))  # noqa: S311 (not for secrets)


Decide = Callable[[CommandT, StateT | None, datetime], Sequence[Event]]
"""A decider: the command, the stream's state (None for a new stream) and now → new events."""
Evolve = Callable[[StateT | None, Event], StateT]
"""An evolver: the state and one event → the state after it."""


class CommandNotAppliedError(Exception):
    """The command was not applied, for a reason that passes: the same command may be sent again.

    Answered as busy (503 with Retry-After). Its subclasses say what happened.
    """

    def __init__(self, stream_id: str, message: str) -> None:
        self.stream_id = stream_id
        super().__init__(message)


class ConcurrencyRetriesExhaustedError(CommandNotAppliedError):
    """Every attempt lost the race to another writer; nothing was appended."""

    def __init__(self, stream_id: str, attempts: int) -> None:
        self.attempts = attempts
        super().__init__(
            stream_id,
            f"stream {stream_id!r} kept changing under the command: gave up after "
            f"{attempts} attempts, nothing was appended",
        )


class EventStoreUnavailableError(CommandNotAppliedError):
    """The event store throttled or did not answer, even after its client's own retries.

    Sending the same command again later is safe, whether or not an append whose answer was
    lost went through.
    """

    def __init__(self, stream_id: str) -> None:
        super().__init__(
            stream_id, f"the event store did not answer for {stream_id!r}: try again later"
        )


@dataclass(frozen=True, slots=True)
class Loaded(Generic[StateT]):
    """A stream's state (None: no events yet) at a version, and the version from which an
    append keeps a snapshot again (0: at once)."""

    state: StateT | None
    version: int
    snapshot_due: int = 0


@dataclass(frozen=True, slots=True)
class HandleResult:
    """The stream's version after the command, the events it appended, and the tries it took."""

    version: int
    events: tuple[RecordedEvent, ...]
    attempts: int

    @property
    def retries(self) -> int:
        """How many times the command lost the race and decided again (attempts - 1)."""
        return self.attempts - 1


@dataclass(frozen=True, slots=True)
class Retry:
    """A command lost the race for its stream and is about to decide again on fresh state.

    Names no command field or event: nothing in it is personal data.
    """

    stream_id: str
    attempt: int  # the attempt about to start: 2 for the first retry
    max_attempts: int
    expected_version: int  # the version the lost attempt decided on
    actual_version: int | None  # the stream's version just after the conflict, when known


class CommandHandler(Generic[CommandT, StateT]):
    def __init__(
        self,
        store: EventStore,
        decide: Decide[CommandT, StateT],
        evolve: Evolve[StateT],
        clock: Clock,
        new_id: Callable[[], str],
        *,
        max_attempts: int = 4,
        on_retry: Callable[[Retry], None] | None = None,
        snapshots: SnapshotCodec[StateT] | None = None,
        snapshot_policy: SnapshotPolicy = SnapshotPolicy(),
        pause: Callable[[int], float] = full_jitter,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts is at least 1, got {max_attempts}")
        self._store = store
        self._decide = decide
        self._evolve = evolve
        self._clock = clock
        self._new_id = new_id
        self._max_attempts = max_attempts
        self._on_retry = on_retry
        self._snapshots = snapshots
        self._snapshot_policy = snapshot_policy
        self._pause = pause
        self._sleep = sleep

    def handle(
        self,
        command: CommandT,
        *,
        stream_id: str,
        actor: str,
        correlation_id: str,
        causation_id: str | None = None,
        loaded: Loaded[StateT] | None = None,
    ) -> HandleResult:
        """Apply `command` to the stream and append what it decides.

        Without a `causation_id` the command starts its own chain: the correlation id is used.
        `loaded`, from `load`, saves the first attempt's read; if the stream moved on since,
        the append loses the race and the next attempt reads afresh.
        """
        conflict: ConcurrencyError | None = None
        for attempt in range(1, self._max_attempts + 1):
            current = loaded if attempt == 1 and loaded is not None else self.load(stream_id)
            state, version = current.state, current.version
            now = self._clock()
            decided = self._decide(command, state, now)
            if not decided:
                return HandleResult(version, (), attempt)
            new = self._stamp(decided, now, actor, correlation_id, causation_id or correlation_id)
            snapshot = None
            if version + len(decided) >= current.snapshot_due:
                snapshot = self._snapshot_after(state, decided, version + len(decided))
            try:
                new_version = self._store.append(stream_id, version, new, snapshot)
            except ConcurrencyError as error:
                conflict = error  # someone else appended first: decide again on what they wrote
                if attempt < self._max_attempts:
                    if self._on_retry is not None:
                        self._on_retry(
                            Retry(stream_id, attempt + 1, self._max_attempts, version, error.actual)
                        )
                    self._sleep(self._pause(attempt))
                continue
            except Exception as error:
                if is_unavailable(error):
                    raise EventStoreUnavailableError(stream_id) from error
                raise
            recorded = tuple(
                RecordedEvent(stream_id, version + n, item.event, item.metadata)
                for n, item in enumerate(new, 1)
            )
            return HandleResult(new_version, recorded, attempt)
        raise ConcurrencyRetriesExhaustedError(stream_id, self._max_attempts) from conflict

    def load(self, stream_id: str) -> Loaded[StateT]:
        """The stream's state and version now (to look before deciding: see `handle`)."""
        codec = self._snapshots
        try:
            loaded = self._store.load(stream_id, codec.format if codec is not None else None)
            state: StateT | None = None
            due = 0  # no usable snapshot: keep one with the next append
            if (kept := loaded.snapshot) is not None and codec is not None:
                try:
                    state = codec.decode(kept.data)
                except SnapshotUnreadableError:
                    state, loaded = None, self._store.load(stream_id)  # fold every event
                else:
                    if not loaded.snapshot_misplaced:
                        due = kept.version + self._snapshot_policy.interval(len(kept.data))
            return Loaded(self._fold(state, loaded), loaded.version, due)
        except Exception as error:
            if is_unavailable(error):
                raise EventStoreUnavailableError(stream_id) from error
            raise

    def _fold(self, state: StateT | None, loaded: LoadedStream) -> StateT | None:
        for recorded in loaded.events:
            state = self._evolve(state, recorded.event)
        return state

    def _snapshot_after(
        self, state: StateT | None, decided: Sequence[Event], version: int
    ) -> Snapshot | None:
        """The state the decided events leave, to keep with them; None without a codec, or
        when it encodes larger than a snapshot may be (the next load then folds from the
        last snapshot kept, and the next append tries again)."""
        codec = self._snapshots
        if codec is None:
            return None
        for event in decided:
            state = self._evolve(state, event)
        if state is None:
            return None
        data = codec.encode(state)
        return Snapshot(version, codec.format, data) if len(data) <= MAX_SNAPSHOT_BYTES else None

    def _stamp(
        self,
        decided: Sequence[Event],
        now: datetime,
        actor: str,
        correlation_id: str,
        causation_id: str,
    ) -> list[NewEvent]:
        recorded_at = self._clock()
        return [
            NewEvent(
                event,
                EventMetadata(
                    event_id=self._new_id(),
                    occurred_at=now,
                    recorded_at=recorded_at,
                    correlation_id=correlation_id,
                    causation_id=causation_id,
                    actor=actor,
                ),
            )
            for event in decided
        ]
