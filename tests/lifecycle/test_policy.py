"""How long a Wait lasts, when an execution hands over, how executions are named: no machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.lifecycle.executions import ExecutionName
from functions.lifecycle.policy import (
    ITERATIONS_PER_EXECUTION,
    RENEW_AFTER,
    iso_utc,
    must_renew,
    wake_at,
)
from programme.stack.clock import LocalClock, ManualClock

NOW = datetime(2015, 1, 29, 9, 0, 0, 250_000, tzinfo=UTC)
REAL_NOW = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)


def test_a_wait_ends_when_the_transition_is_due_rounded_up_to_the_second() -> None:
    due = NOW + timedelta(hours=3)
    wake = wake_at(ManualClock(NOW), due, started_at=NOW)
    assert wake == (due + timedelta(seconds=1)).replace(microsecond=0)


def test_a_wait_lasts_until_the_transition_is_due_however_far_off() -> None:
    # no day cap: a change of dates is acted on by the starter, not by the loop looking again
    due = (NOW + timedelta(days=200)).replace(microsecond=0)
    assert wake_at(ManualClock(NOW), due, started_at=NOW) == due


def test_a_wait_ends_when_the_execution_must_hand_over_if_that_is_sooner() -> None:
    # GIVEN an execution that began 300 days ago, and a transition due in 100 days
    started = NOW - timedelta(days=300)
    due = NOW + timedelta(days=100)

    # THEN its Wait ends at its renewal instant, inside Step Functions' one-year limit
    wake = wake_at(ManualClock(NOW), due, started_at=started)
    assert wake == (started + RENEW_AFTER + timedelta(seconds=1)).replace(microsecond=0)
    assert wake - started < timedelta(days=365)


def test_an_execution_hands_over_once_it_has_lived_long_enough_or_looped_too_often() -> None:
    clock = ManualClock(NOW)
    assert not must_renew(clock, NOW - RENEW_AFTER + timedelta(seconds=1), iteration=1)
    assert must_renew(clock, NOW - RENEW_AFTER, iteration=1)
    assert not must_renew(clock, NOW, iteration=ITERATIONS_PER_EXECUTION)
    assert must_renew(clock, NOW, iteration=ITERATIONS_PER_EXECUTION + 1)


def test_a_transition_already_due_is_waited_for_not_at_all() -> None:
    wake = wake_at(ManualClock(NOW), NOW - timedelta(days=2), started_at=NOW)
    assert wake <= NOW + timedelta(seconds=1)


def test_on_the_local_clock_a_future_transition_is_looked_at_again_in_a_second() -> None:
    clock = LocalClock(NOW, wall=lambda: REAL_NOW)
    wake = wake_at(clock, NOW + timedelta(days=30), started_at=NOW)
    assert wake == REAL_NOW + timedelta(seconds=1)


def test_on_the_local_clock_a_transition_program_time_has_reached_is_due_now() -> None:
    clock = LocalClock(NOW, wall=lambda: REAL_NOW)
    clock.advance(timedelta(days=30))
    assert wake_at(clock, NOW + timedelta(days=30), started_at=NOW) == REAL_NOW


def test_wait_timestamps_are_in_the_form_a_wait_state_reads() -> None:
    assert iso_utc(NOW) == "2015-01-29T09:00:00Z"


@pytest.mark.parametrize(
    ("name", "round_id", "schedule_version", "generation"),
    [
        ("2015-3", "2015-3", 1, 1),
        ("2015-3.gen2", "2015-3", 1, 2),
        ("r-12.gen40", "r-12", 1, 40),
        ("2015-3.v7", "2015-3", 7, 1),
        ("2015-3.v7.gen2", "2015-3", 7, 2),
    ],
)
def test_an_execution_name_tells_its_round_schedule_and_generation(
    name: str, round_id: str, schedule_version: int, generation: int
) -> None:
    parsed = ExecutionName.parse(name)
    assert parsed == ExecutionName(round_id, schedule_version, generation)
    assert str(parsed) == name


def test_names_order_by_schedule_then_generation() -> None:
    names = ["2015-3.v7", "2015-3.gen3", "2015-3", "2015-3.v7.gen2", "2015-3.v12"]
    parsed = [ExecutionName.parse(name) for name in names]
    assert [str(name) for name in sorted(n for n in parsed if n)] == [
        "2015-3",
        "2015-3.gen3",
        "2015-3.v7",
        "2015-3.v7.gen2",
        "2015-3.v12",
    ]
    assert ExecutionName("2015-3", 7).next_generation() == ExecutionName("2015-3", 7, 2)


@pytest.mark.parametrize(
    "name",
    [
        "2015-3.gen1",
        "2015-3.gen0",
        "2015-3.v1",
        "2015-3.v0",
        "2015-3.gen2.v7",
        "Manual-Run",
        "a.b",
        "",
    ],
)
def test_names_of_another_shape_belong_to_no_round(name: str) -> None:
    assert ExecutionName.parse(name) is None
