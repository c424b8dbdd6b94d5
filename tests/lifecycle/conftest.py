"""Fixtures: the round-lifecycle state machine executing in moto (decorator mode)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.core.config import default_user_config

from functions.common import bootstrap
from programme.round3 import data as r3
from programme.stack.clock import LocalClock
from programme.stack.lambdas import dispatching
from programme.stack.lifecycle import MOTO_CONFIG, create_round_lifecycle, lifecycle_lambdas
from tests.lifecycle.harness import Lifecycle
from tests.support.aws import REGION
from tests.support.stack import FunctionsEnv

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Powertools warns when an invocation counted nothing: expected for some tasks here.
    quiet = pytest.mark.filterwarnings("ignore:No application metrics to publish")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(quiet)


@pytest.fixture
def utc() -> Iterator[None]:
    """moto's Wait reads local naive time against a `…Z` timestamp: run the test in UTC."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture
def lifecycle(
    functions_env: FunctionsEnv, utc: None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Lifecycle]:
    """Round 3's clock at its scheduling date, the state machine created, tasks dispatched."""
    for service, config in MOTO_CONFIG.items():
        monkeypatch.setitem(default_user_config, service, config)
    client = boto3.client("stepfunctions", region_name=REGION)
    arn = create_round_lifecycle(client)
    monkeypatch.setenv("STATE_MACHINE_ARN", arn)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    bootstrap.reset()
    clock = LocalClock(r3.SCHEDULED_ON)
    bootstrap.set_clock(clock)
    with dispatching(lifecycle_lambdas()) as lambdas:
        harness = Lifecycle(client, arn, clock, lambdas)
        try:
            yield harness
        finally:
            harness.stop_all()
