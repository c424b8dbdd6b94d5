"""Fixtures for the write-side entry points: the stack under moto, and a round to act on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from functions.commands import idempotency
from tests.functions.rounds import Rounds
from tests.support.stack import FunctionsEnv

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Powertools warns on every invocation that counted nothing (a 422, say): expected here.
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
def rounds(env: FunctionsEnv) -> Rounds:
    return Rounds()


@pytest.fixture
def open_round(rounds: Rounds) -> Rounds:
    rounds.open()
    return rounds
