"""Task failures: a transient one is retried with backoff, a lasting one is recorded and fails."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from botocore.exceptions import ClientError

from domain import Command, RoundState
from events import ApplicationsOpened
from functions.common import bootstrap
from functions.lifecycle import policy
from infra.command_handler import CommandHandler, HandleResult
from programme.round3 import data as r3
from tests.lifecycle.harness import Lifecycle, the, until
from tests.lifecycle.test_round_lifecycle import schedule_round_3


class ThrottledOnce:
    """The command handler, but its first command meets DynamoDB throttling."""

    def __init__(self, handler: CommandHandler[Command, RoundState]) -> None:
        self._handler = handler
        self.failures = 0

    def handle(self, command: Command, **kwargs: Any) -> HandleResult:
        if self.failures == 0:
            self.failures += 1
            raise ClientError(
                {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
                "TransactWriteItems",
            )
        return self._handler.handle(command, **kwargs)


def test_a_transition_that_fails_once_is_retried_and_recorded_once(
    lifecycle: Lifecycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN round 3 scheduled, applications due to open, and the store throttling once
    schedule_round_3(lifecycle.driver())
    lifecycle.advance_to(r3.APPLICATION_OPENS_AT)
    throttled = ThrottledOnce(bootstrap.command_handler())
    monkeypatch.setattr(bootstrap, "command_handler", cache(lambda: throttled))

    # WHEN the execution starts and fires the transition
    lifecycle.start()
    until(lambda: lifecycle.state().status == "open", "applications open")

    # THEN the failed attempt was retried, not caught, and the transition recorded once
    assert throttled.failures == 1
    assert task_failures_of(lifecycle, r3.ROUND_ID) == ["ClientError"]
    assert "RecordFailure" not in lifecycle.entered_states()
    assert lifecycle.event_types().count("ApplicationsOpened") == 1
    assert lifecycle.status() == "RUNNING"


def test_a_lasting_failure_is_recorded_counted_and_fails_the_execution(
    lifecycle: Lifecycle, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN an execution for a round that was never scheduled
    # WHEN it starts
    lifecycle.start("2099-1")
    until(lambda: lifecycle.finished("2099-1"), "the execution finished")

    # THEN the error was not retried, but recorded and counted, and the execution failed
    assert task_failures_of(lifecycle, "2099-1") == ["RoundNotFoundError"]
    assert lifecycle.entered_states("2099-1")[-2:] == ["RecordFailure", "Failed"]
    assert lifecycle.status("2099-1") == "FAILED"
    failed = lifecycle.history("2099-1")[-1]
    assert failed["executionFailedEventDetails"]["error"] == "RoundLifecycleFailed"
    assert '"LifecycleFailures":[1.0]' in capsys.readouterr().out


def task_failures_of(lifecycle: Lifecycle, name: str) -> list[str]:
    return [
        event["taskFailedEventDetails"]["error"]
        for event in lifecycle.history(name)
        if event["type"] == "TaskFailed"
    ]


def test_a_long_lived_execution_hands_the_round_to_its_next_generation(
    lifecycle: Lifecycle, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN executions that hand over after two loops, and round 3 scheduled and started
    monkeypatch.setattr(policy, "ITERATIONS_PER_EXECUTION", 2)
    schedule_round_3(lifecycle.driver())
    lifecycle.start()

    # WHEN it has looped twice
    until(lambda: "2015-3.gen2" in lifecycle.executions(), "the next generation started")

    # THEN the first execution succeeded by handing over ...
    until(lifecycle.finished, "the first execution finished")
    assert lifecycle.status() == "SUCCEEDED"
    assert lifecycle.entered_states()[-2:] == ["HandOver", "HandedOver"]

    # ... and a later generation carries the round on
    lifecycle.advance_to(r3.APPLICATION_OPENS_AT)
    until(lambda: lifecycle.state().status == "open", "applications open")
    _, opened = the(ApplicationsOpened)
    assert opened.correlation_id.startswith("2015-3.gen")
