"""Making races happen on purpose, and observing them.

A race left to chance proves nothing when it does not happen. `RacingStore` wraps the event
store so that each racer's next read, once it has read the whole stream, waits at a barrier
for the other racers' reads: every racer then decides on the same version before any of them
appends, and all but the first to append must lose (the store's condition sees to it). A
racer may also hold its append until another racer's append is done, to fix who wins.

`Retries` stands in for the composition root's `concurrency_retried` hook (installed where
the production `command_handler()` finds it), counting each retry by the delivery or command
the calling thread was working on.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache

import pytest

from functions.common import bootstrap
from infra.command_handler import Retry
from infra.eventstore import EventStore, LoadedStream, NewEvent, RecordedEvent, Snapshot

BARRIER_TIMEOUT = 30.0


@dataclass
class _Armed:
    barrier: threading.Barrier
    append_after: threading.Event | None
    appended: threading.Event | None
    first_append_done: bool = False


class RacingStore:
    """An event store whose armed readers meet after reading, before anyone appends."""

    def __init__(self, store: EventStore, racers: int) -> None:
        self._store = store
        self._barrier = threading.Barrier(racers, timeout=BARRIER_TIMEOUT)
        self._local = threading.local()
        self.met = 0  # racers that went through the barrier
        self._lock = threading.Lock()

    def arm(
        self,
        *,
        append_after: threading.Event | None = None,
        appended: threading.Event | None = None,
    ) -> None:
        """The calling thread's next read meets the other racers' reads.

        With `append_after`, its first append waits until that event is set; with `appended`,
        the event is set once its first append has been tried (won or lost).
        """
        self._local.armed = _Armed(self._barrier, append_after, appended)
        self._local.meet = True

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        loaded = self._store.load(stream_id, snapshot_format)
        self._meet()
        return loaded

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        events = list(self._store.read(stream_id, after_version))
        self._meet()
        return iter(events)

    def _meet(self) -> None:
        armed: _Armed | None = getattr(self._local, "armed", None)
        if armed is not None and self._local.meet:
            self._local.meet = False
            armed.barrier.wait()
            with self._lock:
                self.met += 1

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        snapshot: Snapshot | None = None,
    ) -> int:
        armed: _Armed | None = getattr(self._local, "armed", None)
        if armed is None or armed.first_append_done:
            return self._store.append(stream_id, expected_version, events, snapshot)
        armed.first_append_done = True
        if armed.append_after is not None and not armed.append_after.wait(BARRIER_TIMEOUT):
            raise TimeoutError("the racer this append waits for never appended")
        try:
            return self._store.append(stream_id, expected_version, events, snapshot)
        finally:
            if armed.appended is not None:
                armed.appended.set()

    def last_version(self, stream_id: str) -> int:
        return self._store.last_version(stream_id)


@dataclass
class Retries:
    """Every retry the command handlers reported, by what the reporting thread was doing."""

    seen: list[tuple[str, Retry]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _local: threading.local = field(default_factory=threading.local)
    then: Callable[[Retry], None] | None = None

    def working_on(self, label: str) -> None:
        self._local.label = label

    def __call__(self, retry: Retry) -> None:
        with self._lock:
            self.seen.append((getattr(self._local, "label", "?"), retry))
        if self.then is not None:
            self.then(retry)

    @property
    def total(self) -> int:
        return len(self.seen)

    def by_label(self) -> Counter[str]:
        return Counter(label for label, _ in self.seen)


def install(
    monkeypatch: pytest.MonkeyPatch, store: EventStore | None = None, retries: Retries | None = None
) -> None:
    """Make the production `bootstrap.command_handler()` use `store` and report to `retries`.

    The handler is still built by the composition root, so its `on_retry` wiring is the one
    under test: `retries` replaces the hook where `command_handler()` looks it up.
    """
    if store is not None:
        monkeypatch.setattr(bootstrap, "event_store", cache(lambda: store))
    if retries is not None:
        monkeypatch.setattr(bootstrap, "concurrency_retried", retries)
    bootstrap.command_handler.cache_clear()


RETRY_LOG_FIELDS = (
    "stream_id",
    "concurrency_retry",
    "max_attempts",
    "expected_version",
    "actual_version",
)


def retry_log_lines(caplog: pytest.LogCaptureFixture) -> list[dict[str, object]]:
    """The structured fields of each retry's log line (records reach pytest's handler too)."""
    return [
        {name: getattr(record, name) for name in RETRY_LOG_FIELDS}
        for record in caplog.records
        if record.getMessage().startswith("concurrency conflict")
    ]


def versions(store: EventStore, stream_id: str) -> list[int]:
    return [recorded.version for recorded in store.read(stream_id)]


def assert_contiguous(store: EventStore, stream_id: str) -> list[RecordedEvent]:
    """The stream's versions are 1..n with no gap or repeat, each event id once."""
    recorded = list(store.read(stream_id))
    assert [r.version for r in recorded] == list(range(1, len(recorded) + 1))
    ids = [r.metadata.event_id for r in recorded]
    assert len(set(ids)) == len(ids)
    return recorded


def run_in_threads(work: Sequence[Callable[[], object]]) -> list[object]:
    """Run each callable on its own thread; their results (or exceptions) in order."""
    results: list[object] = [None] * len(work)

    def run(i: int) -> None:
        try:
            results[i] = work[i]()
        except Exception as error:  # the test inspects it
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,), name=f"racer-{i}") for i in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive(), f"{thread.name} is still running"
    return results
