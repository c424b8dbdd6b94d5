"""`ApplyTransition` invoked as the state machine invokes it: idempotent, and strict on names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from functions.common import bootstrap
from programme.round3 import data as r3
from programme.stack.clock import LocalClock
from programme.stack.lifecycle import lifecycle_lambdas
from tests.lifecycle.harness import recorded, round_driver
from tests.lifecycle.test_round_lifecycle import schedule_round_3
from tests.support.stack import FunctionsEnv


@pytest.fixture
def clock(functions_env: FunctionsEnv) -> Iterator[LocalClock]:
    clock = LocalClock(r3.SCHEDULED_ON)
    bootstrap.set_clock(clock)
    yield clock
    bootstrap.set_clock(None)


def apply(action: str, execution: str = "2015-3") -> dict[str, Any]:
    payload = {"round_id": r3.ROUND_ID, "action": action, "execution": execution}
    return lifecycle_lambdas().invoke("ApplyTransitionFunction", json.dumps(payload).encode())


def opened() -> list[Any]:
    return [r for r in recorded() if r.event.type == "ApplicationsOpened"]


def test_a_transition_fired_twice_records_its_events_once(clock: LocalClock) -> None:
    # GIVEN round 3 scheduled, and applications due to open
    schedule_round_3(round_driver(clock))
    clock.advance_to(r3.APPLICATION_OPENS_AT)

    # WHEN the transition is fired twice (a retry whose first answer was lost)
    first = apply("OpenApplications")
    second = apply("OpenApplications", execution="2015-3.gen2")

    # THEN the first recorded the transition, the second nothing
    assert first["Payload"]["recorded"] == ["ApplicationsOpened"]
    assert second["Payload"]["recorded"] == []
    assert second["Payload"]["version"] == first["Payload"]["version"]
    (event,) = opened()
    assert event.metadata.actor == "scheduler:round-lifecycle"
    assert event.metadata.correlation_id == "2015-3"


def test_a_transition_fired_before_it_is_due_records_nothing(clock: LocalClock) -> None:
    # GIVEN round 3 scheduled, a minute before applications open
    schedule_round_3(round_driver(clock))
    clock.advance_to(r3.APPLICATION_OPENS_AT - timedelta(minutes=1))

    # WHEN the transition is fired early
    response = apply("OpenApplications")

    # THEN nothing is recorded
    assert response["Payload"]["recorded"] == []
    assert opened() == []


def test_an_unknown_transition_is_a_function_error_named_for_it(clock: LocalClock) -> None:
    # GIVEN round 3 scheduled
    schedule_round_3(round_driver(clock))

    # WHEN a transition no command implements is asked for
    response = apply("ReopenApplications")

    # THEN it fails as Lambda reports an unhandled error, under a name the ASL never retries
    assert response["FunctionError"] == "Unhandled"
    assert response["Payload"]["errorType"] == "UnknownTransitionError"
