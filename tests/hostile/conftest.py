"""Fixtures for the hostile-input tests: the functions' environment under moto, a round, and
snapshots of every table a request may write to."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from functions.commands import idempotency
from functions.common import bootstrap
from tests.functions.rounds import Rounds
from tests.hostile.snapshot import Snapshot, take
from tests.support.stack import FunctionsEnv

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Powertools warns on every invocation that counted nothing (a 4xx, say): expected here.
    quiet = pytest.mark.filterwarnings("ignore:No application metrics to publish")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(quiet)


@pytest.fixture
def env(functions_env: FunctionsEnv) -> Iterator[FunctionsEnv]:
    """The functions' environment, with the commands' idempotency layer built afresh."""
    idempotency.reset()
    yield functions_env
    idempotency.reset()


@pytest.fixture
def state(env: FunctionsEnv) -> Callable[[], Snapshot]:
    """Takes a snapshot of every state table (event store, read models, keys, idempotency)."""
    return lambda: take(bootstrap.dynamodb_client(), env.tables)


@pytest.fixture
def rounds(env: FunctionsEnv) -> Rounds:
    return Rounds()


@pytest.fixture
def open_round(rounds: Rounds) -> Rounds:
    rounds.open()
    return rounds
