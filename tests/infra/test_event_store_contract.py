"""The event-store contract: every backend passes these same tests, or it is not a store.

Parametrized over the in-memory, the SQLite and the DynamoDB (moto, table from
`template.yaml`) store.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager

import pytest

from infra.eventstore import (
    MAX_EVENTS_PER_APPEND,
    MAX_ITEM_BYTES,
    AppendRefusedError,
    AppendTooLargeError,
    ConcurrencyError,
    EmptyAppendError,
    EventStore,
    EventTooLargeError,
    TooManyEventsError,
)
from infra.eventstore.records import encode, item_size
from tests.support.event_examples import EXAMPLES
from tests.support.new_events import event_of_about, new_event, number_of, numbered

STREAM = "round-2015-3"


def numbers_in(store: EventStore, stream_id: str = STREAM, after: int = 0) -> list[int]:
    return [number_of(recorded.event) for recorded in store.read(stream_id, after)]


def test_events_are_read_back_in_the_order_they_were_appended(store: EventStore) -> None:
    # GIVEN a stream built by three appends
    store.append(STREAM, 0, numbered(2, start=1))
    store.append(STREAM, 2, numbered(1, start=3))
    store.append(STREAM, 3, numbered(3, start=4))
    # WHEN it is read
    recorded = list(store.read(STREAM))
    # THEN every event comes back in order, numbered from version 1
    assert [r.version for r in recorded] == [1, 2, 3, 4, 5, 6]
    assert [number_of(r.event) for r in recorded] == [1, 2, 3, 4, 5, 6]
    assert {r.stream_id for r in recorded} == {STREAM}


def test_appending_to_a_new_stream_with_expected_version_zero_creates_it(
    store: EventStore,
) -> None:
    # GIVEN no stream
    assert store.last_version(STREAM) == 0
    # WHEN two events are appended expecting version 0
    version = store.append(STREAM, 0, numbered(2))
    # THEN the stream exists at version 2
    assert version == 2
    assert store.last_version(STREAM) == 2
    assert numbers_in(store) == [1, 2]


def test_a_stream_that_does_not_exist_reads_as_empty(store: EventStore) -> None:
    # GIVEN another stream, but not this one
    store.append("round-other", 0, numbered(1))
    # WHEN / THEN
    assert list(store.read(STREAM)) == []
    assert store.last_version(STREAM) == 0


@pytest.mark.parametrize(
    "expected",
    [
        pytest.param(0, id="re-inserting-version-1-as-a-new-stream"),
        pytest.param(1, id="stale-re-inserting-version-2"),
        pytest.param(2, id="stale-by-one"),
        pytest.param(4, id="ahead-by-one-would-leave-a-gap"),
        pytest.param(9, id="far-ahead"),
    ],
)
def test_appending_at_any_version_but_the_current_one_conflicts_and_writes_nothing(
    store: EventStore, expected: int
) -> None:
    # GIVEN a stream at version 3
    store.append(STREAM, 0, numbered(3))
    # WHEN a batch of three is appended expecting another version
    with pytest.raises(ConcurrencyError) as conflict:
        store.append(STREAM, expected, numbered(3, start=10))
    # THEN the error says where the stream was, and not one event of the batch was written
    assert (conflict.value.stream_id, conflict.value.expected) == (STREAM, expected)
    assert conflict.value.actual == 3
    assert numbers_in(store) == [1, 2, 3]
    # AND the versions the batch aimed at are still free for a correct append
    assert store.append(STREAM, 3, numbered(3, start=20)) == 6
    assert numbers_in(store) == [1, 2, 3, 20, 21, 22]


def test_a_batch_that_conflicts_on_its_first_event_leaves_the_rest_unwritten(
    store: EventStore,
) -> None:
    # GIVEN a stream at version 1, and a batch that a stale writer aims at versions 1 to 5
    store.append(STREAM, 0, numbered(1))
    # WHEN it is appended: version 1 is taken, versions 2 to 5 are free
    with pytest.raises(ConcurrencyError):
        store.append(STREAM, 0, numbered(5, start=10))
    # THEN none of the free versions was written either: all or nothing
    assert numbers_in(store) == [1]
    assert store.last_version(STREAM) == 1


@pytest.mark.parametrize(
    ("after", "expected"), [(0, [1, 2, 3, 4, 5]), (2, [3, 4, 5]), (5, []), (9, [])]
)
def test_reading_after_a_version_gives_only_the_later_events(
    store: EventStore, after: int, expected: list[int]
) -> None:
    # GIVEN a stream at version 5
    store.append(STREAM, 0, numbered(5))
    # WHEN it is read after a version
    recorded = list(store.read(STREAM, after_version=after))
    # THEN only the events after it come back
    assert [r.version for r in recorded] == expected
    assert [number_of(r.event) for r in recorded] == expected


def test_a_long_stream_is_read_whole_and_in_order_across_pages(store: EventStore) -> None:
    # GIVEN a stream of 250 events (many pages of the DynamoDB store)
    for start in range(1, 251, 50):
        store.append(STREAM, start - 1, numbered(50, start=start))
    # WHEN it is read whole, and after a version inside a late page
    whole = list(store.read(STREAM))
    tail = list(store.read(STREAM, after_version=237))
    # THEN nothing is lost or repeated at page boundaries
    assert [r.version for r in whole] == list(range(1, 251))
    assert [number_of(r.event) for r in whole] == list(range(1, 251))
    assert [r.version for r in tail] == list(range(238, 251))
    assert store.last_version(STREAM) == 250


def test_every_event_type_reads_back_equal_with_its_envelope(store: EventStore) -> None:
    # GIVEN one example of every event type, each with its own envelope
    appended = [new_event(event, n) for n, event in enumerate(EXAMPLES.values(), 1)]
    # WHEN they are appended together and read back
    store.append(STREAM, 0, appended)
    recorded = list(store.read(STREAM))
    # THEN each event and its metadata are equal to what was appended, in order
    assert [r.version for r in recorded] == list(range(1, len(appended) + 1))
    assert [r.event for r in recorded] == [a.event for a in appended]
    assert [r.metadata for r in recorded] == [a.metadata for a in appended]
    assert {r.event.type for r in recorded} == set(EXAMPLES)


def test_an_event_over_the_item_limit_is_refused_before_anything_is_written(
    store: EventStore,
) -> None:
    # GIVEN a batch whose second event is larger than one DynamoDB item may be
    batch = [*numbered(1), new_event(event_of_about(450_000), 2)]
    # WHEN it is appended
    with pytest.raises(EventTooLargeError) as refused:
        store.append(STREAM, 0, batch)
    # THEN the error names the event type and its size, and nothing was written
    assert refused.value.event_type == "RoundStarted"
    assert refused.value.size > MAX_ITEM_BYTES
    assert "RoundStarted" in str(refused.value)
    assert str(refused.value.size) in str(refused.value)
    assert store.last_version(STREAM) == 0
    assert list(store.read(STREAM)) == []


def test_an_event_just_under_the_item_limit_is_stored_and_read_back(store: EventStore) -> None:
    # GIVEN an event whose stored item is within 1 % under the limit
    big = new_event(event_of_about(MAX_ITEM_BYTES - 2_000))
    assert 0.99 * MAX_ITEM_BYTES < item_size(encode(STREAM, 1, big)) <= MAX_ITEM_BYTES
    # WHEN it is appended
    store.append(STREAM, 0, [big])
    # THEN it reads back whole
    assert [r.event for r in store.read(STREAM)] == [big.event]


def test_events_too_large_together_for_one_atomic_write_are_refused(store: EventStore) -> None:
    # GIVEN eleven events each under the item limit, together over the 4 MB transaction limit
    batch = [new_event(event_of_about(370_000), n) for n in range(1, 12)]
    # WHEN they are appended together
    with pytest.raises(AppendTooLargeError):
        store.append(STREAM, 0, batch)
    # THEN nothing was written
    assert store.last_version(STREAM) == 0


def test_an_empty_append_is_refused(store: EventStore) -> None:
    # GIVEN a stream at version 1
    store.append(STREAM, 0, numbered(1))
    # WHEN / THEN an append of no events is refused as invalid, even at the right version
    with pytest.raises(EmptyAppendError, match="at least one event"):
        store.append(STREAM, 1, [])
    assert store.last_version(STREAM) == 1


def test_more_events_than_one_transaction_holds_are_refused(store: EventStore) -> None:
    # GIVEN a batch one over the limit
    batch = numbered(MAX_EVENTS_PER_APPEND + 1)
    # WHEN / THEN it is refused with the limit named, and nothing is written
    with pytest.raises(TooManyEventsError, match=f"at most {MAX_EVENTS_PER_APPEND} events"):
        store.append(STREAM, 0, batch)
    assert store.last_version(STREAM) == 0


def test_the_largest_batch_is_accepted_on_an_existing_stream(store: EventStore) -> None:
    # GIVEN a stream at version 1 (so the DynamoDB transaction also checks version 1)
    store.append(STREAM, 0, numbered(1))
    # WHEN the largest batch allowed is appended
    version = store.append(STREAM, 1, numbered(MAX_EVENTS_PER_APPEND, start=2))
    # THEN all of it is written
    assert version == MAX_EVENTS_PER_APPEND + 1
    assert numbers_in(store) == list(range(1, MAX_EVENTS_PER_APPEND + 2))


@pytest.mark.parametrize(
    "bad_call",
    [
        pytest.param(lambda s: s.append(STREAM, -1, numbered(1)), id="negative-expected"),
        pytest.param(lambda s: s.append("", 0, numbered(1)), id="empty-stream-id"),
        pytest.param(lambda s: s.read(STREAM, after_version=-1), id="negative-after"),
    ],
)
def test_invalid_arguments_are_refused_as_value_errors(
    store: EventStore, bad_call: Callable[[EventStore], object]
) -> None:
    # WHEN / THEN
    with pytest.raises(ValueError, match=r"stream id|version"):
        bad_call(store)
    assert store.last_version(STREAM) == 0


def test_refused_appends_are_value_errors_not_conflicts() -> None:
    # Callers retry conflicts; a refused append must never be mistaken for one.
    for refused in (EmptyAppendError, TooManyEventsError, EventTooLargeError, AppendTooLargeError):
        assert issubclass(refused, AppendRefusedError)
        assert issubclass(refused, ValueError)
        assert not issubclass(refused, ConcurrencyError)


def test_of_two_writers_racing_at_the_same_version_exactly_one_wins(
    store: EventStore, hold_writes: Callable[[threading.Barrier], AbstractContextManager[None]]
) -> None:
    with ThreadPoolExecutor(max_workers=2) as pool:
        for trial in range(20):
            # GIVEN a stream at version 1, and two writers that both saw it there
            stream = f"round-race-{trial}"
            store.append(stream, 0, numbered(1))
            start = threading.Barrier(2, timeout=10)

            def write(first: int, stream: str = stream, start: threading.Barrier = start) -> object:
                start.wait()
                try:
                    return store.append(stream, 1, numbered(2, start=first))
                except ConcurrencyError as error:
                    return error

            # WHEN both append at once (DynamoDB writers meet again just before the write itself;
            # moto handles one request at a time, see tests/support/aws.py)
            with hold_writes(threading.Barrier(2, timeout=10)):
                outcomes = list(pool.map(write, (10, 20)))
            # THEN one wins, the other gets a conflict, and only the winner's events are stored
            winners = [first for first, out in zip((10, 20), outcomes, strict=True) if out == 3]
            conflicts = [out for out in outcomes if isinstance(out, ConcurrencyError)]
            assert len(winners) == 1, outcomes
            assert len(conflicts) == 1, outcomes
            assert conflicts[0].actual == 3
            assert numbers_in(store, stream) == [1, winners[0], winners[0] + 1]


def test_streams_are_independent(store: EventStore) -> None:
    # GIVEN two streams written in turn
    store.append("round-a", 0, numbered(2, start=1))
    store.append("round-b", 0, numbered(3, start=10))
    store.append("round-a", 2, numbered(1, start=3))
    # WHEN / THEN each has its own versions and events, and a conflict in one spares the other
    assert numbers_in(store, "round-a") == [1, 2, 3]
    assert numbers_in(store, "round-b") == [10, 11, 12]
    with pytest.raises(ConcurrencyError):
        store.append("round-b", 2, numbered(1, start=99))
    assert store.last_version("round-a") == 3
    assert store.last_version("round-b") == 3
