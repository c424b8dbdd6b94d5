"""How long a Wait lasts, and how executions are named: the rules, without the machine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from functions.lifecycle.executions import ExecutionName
from functions.lifecycle.policy import iso_utc, wake_at
from infra.clock import ManualClock
from infra.local.clock import LocalClock

NOW = datetime(2015, 1, 29, 9, 0, 0, 250_000, tzinfo=UTC)
REAL_NOW = datetime(2026, 5, 4, 12, 0, 0, tzinfo=UTC)


def test_a_wait_ends_when_the_transition_is_due_rounded_up_to_the_second() -> None:
    due = NOW + timedelta(hours=3)
    assert wake_at(ManualClock(NOW), due) == (due + timedelta(seconds=1)).replace(microsecond=0)


def test_a_wait_lasts_at_most_a_day_so_an_earlier_date_is_seen_within_a_day() -> None:
    wake = wake_at(ManualClock(NOW), NOW + timedelta(days=30))
    assert wake - NOW <= timedelta(days=1, seconds=1)
    assert wake - NOW >= timedelta(days=1)


def test_a_transition_already_due_is_waited_for_not_at_all() -> None:
    assert wake_at(ManualClock(NOW), NOW - timedelta(days=2)) <= NOW + timedelta(seconds=1)


def test_on_the_local_clock_a_future_transition_is_looked_at_again_in_a_second() -> None:
    clock = LocalClock(NOW, wall=lambda: REAL_NOW)
    assert wake_at(clock, NOW + timedelta(days=30)) == REAL_NOW + timedelta(seconds=1)


def test_on_the_local_clock_a_transition_program_time_has_reached_is_due_now() -> None:
    clock = LocalClock(NOW, wall=lambda: REAL_NOW)
    clock.advance(timedelta(days=30))
    assert wake_at(clock, NOW + timedelta(days=30)) == REAL_NOW


def test_wait_timestamps_are_in_the_form_a_wait_state_reads() -> None:
    assert iso_utc(NOW) == "2015-01-29T09:00:00Z"


@pytest.mark.parametrize(
    ("name", "round_id", "generation"),
    [("2015-3", "2015-3", 1), ("2015-3.gen2", "2015-3", 2), ("r-12.gen40", "r-12", 40)],
)
def test_an_execution_name_tells_its_round_and_generation(
    name: str, round_id: str, generation: int
) -> None:
    parsed = ExecutionName.parse(name)
    assert parsed == ExecutionName(round_id, generation)
    assert str(parsed) == name


@pytest.mark.parametrize("name", ["2015-3.gen1", "2015-3.gen0", "Manual-Run", "a.b", ""])
def test_names_of_another_shape_belong_to_no_round(name: str) -> None:
    assert ExecutionName.parse(name) is None
