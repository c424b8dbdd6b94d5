"""Fixtures of the fault-injection suite: the functions under moto, a wire to break, a round."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from botocore.retries import standard
from moto.dynamodb.models import DynamoDBBackend

from functions.commands import idempotency
from programme.stack.moto_dynamodb import keep_stream_shards
from tests.faults.system import System
from tests.faults.wire import Wire
from tests.functions.rounds import Rounds
from tests.readmodels.moto_speed import copy_tables_once
from tests.support.stack import FunctionsEnv

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Powertools warns on every invocation that counted nothing (a crash, say): expected here.
    quiet = pytest.mark.filterwarnings("ignore:No application metrics to publish")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(quiet)


@pytest.fixture(autouse=True)
def _moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """One table snapshot per moto transaction, and the local stack's fix of its rollback (a
    cancelled append must not cut the stream's readers off); botocore retries at once."""
    copy_tables_once(monkeypatch)
    transact = DynamoDBBackend.transact_write_items
    monkeypatch.setattr(DynamoDBBackend, "transact_write_items", keep_stream_shards(transact))
    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0.0)


@pytest.fixture
def wire(monkeypatch: pytest.MonkeyPatch) -> Wire:
    wire = Wire()
    wire.install(monkeypatch)
    return wire


@pytest.fixture
def system(functions_env: FunctionsEnv) -> Iterator[System]:
    """The functions' tables, stream and read models, with the idempotency layer afresh."""
    idempotency.reset()
    yield System(functions_env.tables)
    idempotency.reset()


@pytest.fixture
def rounds(system: System) -> Rounds:
    return Rounds()
