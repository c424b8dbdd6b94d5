"""Snapshots kept with a stream: every backend loads a stream from its snapshot and the events
after it, and keeps a snapshot only with the append it describes.

Parametrized over the in-memory, the SQLite and the DynamoDB (moto, table from
`template.yaml`) store.
"""

from __future__ import annotations

import pytest

from infra.eventstore import ConcurrencyError, EventStore, LoadedStream, Snapshot
from infra.eventstore.errors import SnapshotRefusedError
from infra.eventstore.records import MAX_SNAPSHOT_BYTES
from tests.support.new_events import number_of, numbered

STREAM = "round-2015-3"
FORMAT = "numbers/1"


def snap(version: int, data: bytes = b"state", fmt: str = FORMAT) -> Snapshot:
    return Snapshot(version=version, format=fmt, data=data)


def numbers(loaded: LoadedStream) -> list[int]:
    return [number_of(recorded.event) for recorded in loaded.events]


def test_a_stream_without_a_snapshot_loads_as_all_its_events(store: EventStore) -> None:
    # GIVEN a stream of three events appended without a snapshot
    store.append(STREAM, 0, numbered(3))
    # WHEN it is loaded, asking for a snapshot format or not
    for fmt in (FORMAT, None):
        loaded = store.load(STREAM, fmt)
        # THEN every event comes back, and the version is the last one's
        assert loaded.snapshot is None
        assert numbers(loaded) == [1, 2, 3]
        assert loaded.version == 3


def test_a_missing_stream_loads_empty_at_version_zero(store: EventStore) -> None:
    loaded = store.load(STREAM, FORMAT)
    assert (loaded.snapshot, loaded.events, loaded.version) == (None, (), 0)


def test_a_snapshot_kept_with_the_last_append_is_all_a_load_needs(store: EventStore) -> None:
    # GIVEN two appends, the second keeping a snapshot of the stream at version 5
    store.append(STREAM, 0, numbered(3), snap(3, b"three"))
    store.append(STREAM, 3, numbered(2, start=4), snap(5, b"five"))
    # WHEN it is loaded in that snapshot's format
    loaded = store.load(STREAM, FORMAT)
    # THEN the latest snapshot comes back with no events to fold
    assert loaded.snapshot == snap(5, b"five")
    assert loaded.events == ()
    assert loaded.version == 5
    # AND the events themselves are all still there to read
    assert [r.version for r in store.read(STREAM)] == [1, 2, 3, 4, 5]


def test_a_snapshot_in_another_format_is_ignored(store: EventStore) -> None:
    # GIVEN a snapshot written by a writer whose state had another shape
    store.append(STREAM, 0, numbered(2), snap(2, fmt="numbers/0"))
    # WHEN it is loaded by a writer that knows only the current format
    loaded = store.load(STREAM, FORMAT)
    # THEN the events are folded instead
    assert loaded.snapshot is None
    assert numbers(loaded) == [1, 2]


def test_appends_without_a_snapshot_leave_the_last_one_and_the_events_after_it(
    store: EventStore,
) -> None:
    # GIVEN a snapshot at version 2, then two appends that keep none
    store.append(STREAM, 0, numbered(2), snap(2))
    store.append(STREAM, 2, numbered(1, start=3))
    store.append(STREAM, 3, numbered(2, start=4))
    # WHEN it is loaded
    loaded = store.load(STREAM, FORMAT)
    # THEN the snapshot comes back with the events after it, and the version is the stream's
    assert loaded.snapshot == snap(2)
    assert numbers(loaded) == [3, 4, 5]
    assert loaded.version == 5


@pytest.mark.parametrize("version", [1, 3, 4], ids=["behind", "after-the-first", "ahead"])
def test_a_snapshot_of_another_version_than_the_append_leaves_is_refused(
    store: EventStore, version: int
) -> None:
    # GIVEN a stream at version 1
    store.append(STREAM, 0, numbered(1))
    # WHEN two events are appended with a snapshot that is not of version 3
    with pytest.raises(SnapshotRefusedError, match="version 3"):
        store.append(STREAM, 1, numbered(2, start=2), snap(version if version != 3 else 2))
    # THEN nothing was written
    assert store.load(STREAM, FORMAT).version == 1
    assert store.load(STREAM, FORMAT).snapshot is None


def test_a_snapshot_over_its_size_limit_is_refused_and_nothing_is_written(
    store: EventStore,
) -> None:
    with pytest.raises(SnapshotRefusedError, match=str(MAX_SNAPSHOT_BYTES)):
        store.append(STREAM, 0, numbered(1), snap(1, b"x" * (MAX_SNAPSHOT_BYTES + 1)))
    assert store.load(STREAM, FORMAT).version == 0


def test_a_snapshot_at_its_size_limit_is_kept(store: EventStore) -> None:
    data = bytes(range(256)) * (MAX_SNAPSHOT_BYTES // 256)
    store.append(STREAM, 0, numbered(1), snap(1, data))
    assert store.load(STREAM, FORMAT).snapshot == snap(1, data)


def test_a_conflicting_append_keeps_neither_its_events_nor_its_snapshot(
    store: EventStore,
) -> None:
    # GIVEN a stream at version 2 with its snapshot
    store.append(STREAM, 0, numbered(2), snap(2, b"two"))
    # WHEN a stale writer appends expecting version 1, with its own snapshot
    with pytest.raises(ConcurrencyError):
        store.append(STREAM, 1, numbered(1, start=9), snap(2, b"stale"))
    # THEN the stream and its snapshot are as they were
    loaded = store.load(STREAM, FORMAT)
    assert (loaded.snapshot, loaded.version) == (snap(2, b"two"), 2)
