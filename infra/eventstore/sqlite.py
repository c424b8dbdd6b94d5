"""The SQLite event store: an embedded backend on the standard library's `sqlite3`.

One database, a file or `:memory:`, with two tables:

- `events`: one row per event, keyed by (stream_id, version), holding exactly the columns of
  a `StoredEvent`; `WITHOUT ROWID`, so a stream's events sit together in key order.
- `tips`: one row per stream, its `head` version and, when its writer keeps one, a snapshot
  of its state (an ordinary rowid table: a snapshot may run to hundreds of KB, and SQLite
  advises `WITHOUT ROWID` only for small rows).

An append is one `BEGIN IMMEDIATE` transaction: it moves the tip's head to the new version
on the condition that it is still at the expected one (a stream's tip is created by its
first append, so "expected 0" means "no tip yet"), then inserts the events; a failed
condition rolls back and raises `ConcurrencyError`. The tip is therefore the one place that
decides between racing writers, in this process or in another one on the same file:
`IMMEDIATE` takes the database's write lock at `BEGIN`, so two transactions never both read
a head and then write.

The store holds one connection and serialises its own calls on a lock, so any thread may use
it (a `:memory:` database lives in its one connection). An append that finds another
connection writing waits up to `busy_timeout` seconds for the write lock, then raises
`sqlite3.OperationalError` ("database is locked"): "not now", not "no"; nothing is written.

A file is opened in WAL mode (one connection's reads and another's writes do not block each
other) with `synchronous=NORMAL` by default: every commit is atomic and the file is never corrupted,
and a commit survives the process crashing the moment after; but the last commits before a
power loss or an operating-system crash can be rolled back, since the write-ahead log is
only fsynced at checkpoints. `synchronous="FULL"` fsyncs the log at every commit, so a
commit also survives those, at the cost of an fsync per append.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from dataclasses import fields
from operator import attrgetter
from os import PathLike
from typing import Final, Literal

from infra.eventstore.errors import ConcurrencyError
from infra.eventstore.port import LoadedStream, NewEvent, RecordedEvent, Snapshot
from infra.eventstore.records import (
    StoredEvent,
    check_stream_id,
    check_version,
    decode,
    prepare_append,
)

# The events table's columns are the stored event's fields, in their order (so the SQL
# below is built from names in this module, never from input).
_COLUMNS: Final = tuple(field.name for field in fields(StoredEvent))
_NAMES: Final = ", ".join(_COLUMNS)
_TYPED: Final = ",\n    ".join(
    f"{field.name} {'INTEGER' if field.type == 'int' else 'TEXT'} NOT NULL"
    for field in fields(StoredEvent)
)
_row_of: Final = attrgetter(*_COLUMNS)

_SCHEMA: Final = f"""
CREATE TABLE IF NOT EXISTS events (
    {_TYPED},
    PRIMARY KEY (stream_id, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tips (
    stream_id TEXT PRIMARY KEY,
    head INTEGER NOT NULL,
    snapshot BLOB,
    snapshot_version INTEGER,
    snapshot_format TEXT
);
"""
_PLACES: Final = ", ".join("?" * len(_COLUMNS))
_INSERT_EVENT: Final = f"INSERT INTO events ({_NAMES}) VALUES ({_PLACES})"  # noqa: S608
_SELECT_EVENTS: Final = (
    f"SELECT {_NAMES} FROM events WHERE stream_id = ? AND version > ? ORDER BY version"  # noqa: S608
)
_NEW_TIP: Final = (
    "INSERT INTO tips (stream_id, head, snapshot, snapshot_version, snapshot_format) "
    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream_id) DO NOTHING"
)
_ADVANCE_TIP: Final = "UPDATE tips SET head = ? WHERE stream_id = ? AND head = ?"
_ADVANCE_TIP_WITH_SNAPSHOT: Final = (
    "UPDATE tips SET head = ?, snapshot = ?, snapshot_version = ?, snapshot_format = ? "
    "WHERE stream_id = ? AND head = ?"
)
_HEAD: Final = "SELECT head FROM tips WHERE stream_id = ?"
_SNAPSHOT: Final = (
    "SELECT head, snapshot_version, snapshot FROM tips WHERE stream_id = ? AND snapshot_format = ?"
)


class SQLiteEventStore:
    """An `EventStore` in one SQLite database (a path, or `":memory:"`)."""

    def __init__(
        self,
        database: str | PathLike[str],
        *,
        synchronous: Literal["NORMAL", "FULL"] = "NORMAL",
        busy_timeout: float = 5.0,
    ) -> None:
        if synchronous not in ("NORMAL", "FULL"):
            raise ValueError(f"synchronous is NORMAL or FULL, got {synchronous!r}")
        # Autocommit mode (isolation_level=None): transactions are the explicit BEGINs below.
        self._db = sqlite3.connect(
            database, timeout=busy_timeout, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()
        if str(database) != ":memory:":
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[NewEvent],
        snapshot: Snapshot | None = None,
    ) -> int:
        stored = prepare_append(stream_id, expected_version, events, snapshot)
        new_version = stored[-1].version
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                if not self._advance_tip(stream_id, expected_version, new_version, snapshot):
                    row = db.execute(_HEAD, (stream_id,)).fetchone()
                    raise ConcurrencyError(stream_id, expected_version, row[0] if row else 0)
                db.executemany(_INSERT_EVENT, map(_row_of, stored))
                db.execute("COMMIT")
            except BaseException:
                if db.in_transaction:  # SQLite rolls some failures back by itself
                    db.execute("ROLLBACK")
                raise
        return new_version

    def load(self, stream_id: str, snapshot_format: str | None = None) -> LoadedStream:
        check_stream_id(stream_id)
        snapshot: Snapshot | None = None
        with self._lock:
            # No transaction needed around the two reads: a tip's snapshot is never ahead of
            # its events, so the events after it read a moment later are its continuation,
            # up to whatever append committed last.
            if snapshot_format is not None:
                row = self._db.execute(_SNAPSHOT, (stream_id, snapshot_format)).fetchone()
                if row is not None:
                    head, version, data = row
                    snapshot = Snapshot(version, snapshot_format, data)
                    if version == head:
                        return LoadedStream(snapshot, ())  # one read, however long the stream
            after = snapshot.version if snapshot is not None else 0
            rows = self._db.execute(_SELECT_EVENTS, (stream_id, after)).fetchall()
        return LoadedStream(snapshot, tuple(decode(StoredEvent(*row)) for row in rows))

    def read(self, stream_id: str, after_version: int = 0) -> Iterator[RecordedEvent]:
        check_stream_id(stream_id)
        check_version(after_version, "after_version")
        with self._lock:
            rows = self._db.execute(_SELECT_EVENTS, (stream_id, after_version)).fetchall()
        return (decode(StoredEvent(*row)) for row in rows)

    def last_version(self, stream_id: str) -> int:
        check_stream_id(stream_id)
        with self._lock:
            row = self._db.execute(_HEAD, (stream_id,)).fetchone()
        return int(row[0]) if row else 0

    def _advance_tip(
        self, stream_id: str, expected_version: int, new_version: int, snapshot: Snapshot | None
    ) -> bool:
        """Move the tip's head to `new_version` if it is at `expected_version` (creating the
        tip when that is 0), keeping `snapshot` with it; False when the stream is elsewhere."""
        kept: tuple[bytes | None, int | None, str | None] = (None, None, None)
        if snapshot is not None:
            kept = (snapshot.data, snapshot.version, snapshot.format)
        if expected_version == 0:
            cursor = self._db.execute(_NEW_TIP, (stream_id, new_version, *kept))
        elif snapshot is None:
            cursor = self._db.execute(_ADVANCE_TIP, (new_version, stream_id, expected_version))
        else:
            cursor = self._db.execute(
                _ADVANCE_TIP_WITH_SNAPSHOT, (new_version, *kept, stream_id, expected_version)
            )
        return cursor.rowcount == 1
