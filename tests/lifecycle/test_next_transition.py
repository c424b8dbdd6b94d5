"""`NextTransition` invoked as the state machine invokes it: how long to wait, and when to renew."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from domain import RescheduleRound
from functions.common import bootstrap
from functions.lifecycle.policy import RENEW_AFTER, iso_utc
from programme.round3 import data as r3
from programme.stack.clock import ManualClock
from programme.stack.lifecycle import lifecycle_lambdas
from tests.lifecycle.harness import round_driver, run
from tests.lifecycle.test_round_lifecycle import STAFF, schedule_round_3
from tests.support.stack import FunctionsEnv


@pytest.fixture
def clock(functions_env: FunctionsEnv) -> Iterator[ManualClock]:
    """The wall clock's part, standing still: a Wait's end is a program instant, as on AWS."""
    clock = ManualClock(r3.SCHEDULED_ON)
    bootstrap.set_clock(clock)
    schedule_round_3(round_driver(clock))
    yield clock
    bootstrap.set_clock(None)


def next_transition(**loop: Any) -> dict[str, Any]:
    payload = {"round_id": r3.ROUND_ID, "generation": 1, "execution": "2015-3", **loop}
    response = lifecycle_lambdas().invoke("NextTransitionFunction", json.dumps(payload).encode())
    assert "FunctionError" not in response, response["Payload"]
    step: dict[str, Any] = response["Payload"]
    return step


def test_the_first_loop_waits_until_the_transition_is_due_a_month_off(clock: ManualClock) -> None:
    # WHEN an execution's first loop reads round 3, a month before applications open
    step = next_transition(schedule_version=1, iteration=0, started_at=None)

    # THEN it waits until they are due, not a day at a time, and stamps its start
    assert step["action"] == "OpenApplications"
    assert step["wait_until"] == step["due_at"] == iso_utc(r3.APPLICATION_OPENS_AT)
    assert step["started_at"] == iso_utc(r3.SCHEDULED_ON)
    assert (step["renew"], step["done"], step["iteration"]) == (False, False, 1)


def test_an_execution_that_has_lived_long_enough_hands_over(clock: ManualClock) -> None:
    # GIVEN an execution that began RENEW_AFTER ago
    began = clock()
    clock.advance(RENEW_AFTER)

    # WHEN it loops again
    step = next_transition(schedule_version=1, iteration=3, started_at=iso_utc(began))

    # THEN it hands the round to its next generation
    assert step["renew"] is True
    assert (step["next_schedule_version"], step["next_generation"]) == (1, 2)


def test_a_wait_never_outlasts_the_execution(clock: ManualClock) -> None:
    # GIVEN round 3's opening moved 400 days ahead, beyond an execution's life
    far = r3.SCHEDULED_ON + timedelta(days=400)
    later = {
        "application_opens_at": far,
        "application_closes_at": far + timedelta(days=30),
        "starts_at": far + timedelta(days=60),
        "plan_due_at": far + timedelta(days=200),
        "closes_at": far + timedelta(days=260),
    }
    run(RescheduleRound(r3.ROUND_ID, **later), r3.ROUND_ID, actor=STAFF)

    # WHEN the execution of that schedule (stream version 2) loops for the first time
    step = next_transition(schedule_version=2, iteration=0, started_at=None)

    # THEN its Wait ends when it must hand over, inside Step Functions' one-year limit
    assert step["due_at"] == iso_utc(far)
    assert step["wait_until"] == iso_utc(r3.SCHEDULED_ON + RENEW_AFTER)


def test_an_execution_that_missed_a_reschedule_hands_over_to_that_schedules(
    clock: ManualClock,
) -> None:
    # GIVEN round 3 rescheduled (stream version 2) while an execution of schedule 1 waited
    later = r3.APPLICATION_OPENS_AT + timedelta(days=14)
    run(RescheduleRound(r3.ROUND_ID, application_opens_at=later), r3.ROUND_ID, actor=STAFF)

    # WHEN that execution loops again
    step = next_transition(schedule_version=1, iteration=1, started_at=iso_utc(clock()))

    # THEN it hands the round to the execution the starter starts for it, `2015-3.v2`
    assert step["renew"] is True
    assert (step["next_schedule_version"], step["next_generation"]) == (2, 1)


def test_an_execution_of_the_former_definition_hands_over_at_its_next_loop(
    clock: ManualClock,
) -> None:
    # WHEN an execution started before this definition (no schedule, no `started_at` carried
    # from loop to loop, Waits capped at a day) loops after the deploy
    step = next_transition(iteration=120)

    # THEN it hands over to its next generation, which runs the current definition
    assert step["renew"] is True
    assert (step["next_schedule_version"], step["next_generation"]) == (1, 2)
