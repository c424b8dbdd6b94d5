"""Fixtures for the hostile-input tests: the functions' environment under moto, a round, and
snapshots of every table a request may write to."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from functions.common import bootstrap
from tests.hostile.snapshot import Snapshot, take
from tests.support.stack import FunctionsEnv


@pytest.fixture
def state(env: FunctionsEnv) -> Callable[[], Snapshot]:
    """Takes a snapshot of every state table (event store, read models, keys, idempotency)."""
    return lambda: take(bootstrap.dynamodb_client(), env.tables)
