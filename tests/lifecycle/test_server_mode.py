"""The same state machine behind moto in server mode, as `programme serve` runs it."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator

import boto3
import pytest
from moto.core.config import default_user_config
from moto.server import ThreadedMotoServer

from functions.common import bootstrap
from programme.round3 import data as r3
from programme.stack.clock import LocalClock
from programme.stack.lambdas import dispatching
from programme.stack.lifecycle import (
    configure_moto_server,
    create_round_lifecycle,
    lifecycle_lambdas,
)
from programme.template import create_tables, load_template
from tests.lifecycle.harness import Lifecycle, until
from tests.lifecycle.test_round_lifecycle import schedule_round_3
from tests.support.aws import FAKE_ENVIRONMENT, REGION, serialise_moto_dynamodb


@pytest.fixture
def served_lifecycle(utc: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[Lifecycle]:
    """A moto server on a free loopback port, everything else as in decorator mode."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{server.get_host_and_port()[1]}"
    for name, value in {**FAKE_ENVIRONMENT, "AWS_ENDPOINT_URL": url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("POWERTOOLS_METRICS_NAMESPACE", "ProgrammeEngineTest")
    serialise_moto_dynamodb(monkeypatch)
    # the server's config is this process's: put it back afterwards
    monkeypatch.setitem(default_user_config, "stepfunctions", {})
    try:
        configure_moto_server(url)
        tables = create_tables(boto3.client("dynamodb", region_name=REGION), load_template())
        monkeypatch.setenv("EVENT_STORE_TABLE", tables["EventStoreTable"])
        client = boto3.client("stepfunctions", region_name=REGION)
        arn = create_round_lifecycle(client)
        monkeypatch.setenv("STATE_MACHINE_ARN", arn)
        bootstrap.reset()
        clock = LocalClock(r3.SCHEDULED_ON)
        bootstrap.set_clock(clock)
        with dispatching(lifecycle_lambdas()) as lambdas:
            harness = Lifecycle(client, arn, clock, lambdas)
            try:
                yield harness
            finally:
                harness.stop_all()
    finally:
        bootstrap.reset()
        reset = urllib.request.Request(f"{url}/moto-api/reset", method="POST")
        urllib.request.urlopen(reset, timeout=10).close()
        server.stop()


def test_in_server_mode_the_execution_opens_applications_when_the_clock_says_so(
    served_lifecycle: Lifecycle,
) -> None:
    # GIVEN round 3 scheduled through the server, and its execution started
    lifecycle = served_lifecycle
    schedule_round_3(lifecycle.driver())
    lifecycle.start()

    # WHEN applications are due to open
    lifecycle.advance_to(r3.APPLICATION_OPENS_AT)

    # THEN the execution, waiting on the server, opens them
    until(lambda: lifecycle.state().status == "open", "applications open")
    assert lifecycle.event_types() == ["RoundScheduled", "ApplicationsOpened"]
    assert lifecycle.executions() == {r3.ROUND_ID: "RUNNING"}
