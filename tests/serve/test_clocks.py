"""`--clock`: the wall clock, or program time the demo moves and then hands back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infra.clock import wall_clock
from programme.stack.clock import DemoClock, parse_clock


def test_wall_is_the_wall_clock_and_manual_stands_at_its_instant() -> None:
    assert parse_clock("wall") is wall_clock
    manual = parse_clock("manual:2014-09-01T11:00:00+02:00")
    assert isinstance(manual, DemoClock)
    assert manual() == datetime(2014, 9, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize("option", ["", "manual", "manual:2014-09-01T09:00:00", "manual:soon"])
def test_a_clock_option_that_is_not_understood_is_refused(option: str) -> None:
    with pytest.raises(ValueError, match=r"clock|ISO|zone"):
        parse_clock(option)


def test_after_the_demo_the_clock_follows_the_wall_clock_and_cannot_be_moved() -> None:
    # GIVEN program time in 2015, moved by a demo
    wall = datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock = DemoClock(datetime(2015, 12, 10, 17, tzinfo=UTC), wall=lambda: wall)
    assert clock.wall_time(datetime(2016, 1, 1, tzinfo=UTC)) == wall + timedelta(seconds=1)

    # WHEN it hands over to the wall clock
    clock.follow_wall_clock()

    # THEN it reads the wall clock, a Wait ends at the real instant, and moving it is refused
    assert clock() == wall
    later = datetime(2026, 3, 3, tzinfo=UTC)
    assert clock.wall_time(later) == later
    with pytest.raises(ValueError, match="follows the wall clock"):
        clock.advance_to(later)
