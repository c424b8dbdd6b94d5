"""Fixtures for the race tests: the functions' environment under moto, DynamoDB one request
at a time (as a transaction is isolated in AWS), and a round to race on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.commands import idempotency
from tests.functions.rounds import Rounds
from tests.support.stack import FunctionsEnv

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    quiet = [
        # Powertools warns on every invocation that counted nothing: expected here.
        pytest.mark.filterwarnings("ignore:No application metrics to publish"),
        # Metrics keep their dimensions between invocations in one process (on AWS, one each).
        pytest.mark.filterwarnings("ignore:Dimension 'provider' has already been added"),
    ]
    for item in items:
        if item.path.is_relative_to(HERE):
            for mark in quiet:
                item.add_marker(mark)


@pytest.fixture
def env(functions_env: FunctionsEnv) -> Iterator[FunctionsEnv]:
    idempotency.reset()
    yield functions_env
    idempotency.reset()


@pytest.fixture
def rounds(env: FunctionsEnv) -> Rounds:
    return Rounds()
