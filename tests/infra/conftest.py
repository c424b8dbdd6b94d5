"""Fixtures for the adapter tests: both event stores, behind one parametrized `store`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import TYPE_CHECKING

import pytest

from infra.eventstore import DynamoDBEventStore, EventStore, InMemoryEventStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Small pages, so any stream longer than this exercises the paging path.
PAGE_SIZE = 40


@pytest.fixture(params=["memory", "dynamodb"])
def store(request: pytest.FixtureRequest) -> EventStore:
    if request.param == "memory":
        return InMemoryEventStore()
    client: DynamoDBClient = request.getfixturevalue("dynamodb_client")
    return DynamoDBEventStore(
        client, request.getfixturevalue("event_store_table"), page_size=PAGE_SIZE
    )


HoldWrites = Callable[[threading.Barrier], AbstractContextManager[None]]


@pytest.fixture
def hold_writes(request: pytest.FixtureRequest, store: EventStore) -> HoldWrites:
    """While in use, racing appends meet at the barrier just before the database write.

    Racing writers then get past every read they make before either one commits, so only
    the write's own condition can tell them apart. The in-memory store's append is a single
    critical section: meeting at the call, as the race test does anyway, is all there is.
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
