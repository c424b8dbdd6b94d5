"""Fixtures for the adapter tests: every event store, behind one parametrized `store`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from infra.eventstore import DynamoDBEventStore, EventStore, InMemoryEventStore
from infra.eventstore.sqlite import SQLiteEventStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Small pages, so any stream longer than this exercises the paging path.
PAGE_SIZE = 40


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "memory":
        yield InMemoryEventStore()
        return
    if request.param == "sqlite":
        # A file, not ":memory:": the WAL journal and its settings are what runs for real.
        sqlite = SQLiteEventStore(tmp_path / "events.sqlite")
        yield sqlite
        sqlite.close()
        return
    client: DynamoDBClient = request.getfixturevalue("dynamodb_client")
    yield DynamoDBEventStore(
        client, request.getfixturevalue("event_store_table"), page_size=PAGE_SIZE
    )


HoldWrites = Callable[[threading.Barrier], AbstractContextManager[None]]


@pytest.fixture
def hold_writes(request: pytest.FixtureRequest, store: EventStore) -> HoldWrites:
    """While in use, racing appends meet at the barrier just before the database write.

    Racing writers then get past every read they make before either one commits, so only
    the write's own condition can tell them apart. The in-memory and SQLite stores' appends
    are each a single critical section (a lock; for SQLite also one `BEGIN IMMEDIATE`
    transaction, which reads the head and writes under the database's write lock): meeting
    at the call, as the race test does anyway, is all there is.
    """
    if not isinstance(store, DynamoDBEventStore):
        return lambda barrier: nullcontext()
    client: DynamoDBClient = request.getfixturevalue("dynamodb_client")
    armed: list[threading.Barrier] = []

    def meet(**_: object) -> None:
        if armed:
            armed[-1].wait()

    @contextmanager
    def held(barrier: threading.Barrier) -> Iterator[None]:
        armed.append(barrier)
        try:
            yield
        finally:
            armed.clear()

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", meet)
    return held
