"""How the lifecycle waits: at most a day at a time, and at most so many loops per execution.

A Wait longer than a day would hide a reschedule to an earlier date until it ended; capping
each Wait at a day means the loop re-reads the round at least daily, so an earlier date is
acted on at most a day late (a later date, or a cancellation, simply makes the next
transition decide nothing). The loop count bounds an execution well inside Step Functions'
limits for a Standard workflow (one year, 25,000 history events): after
`ITERATIONS_PER_EXECUTION` loops, each waiting at most a day, the execution hands the round
to a fresh one and succeeds.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol, runtime_checkable

from infra.clock import Clock, wall_clock

MAX_WAIT: Final = timedelta(days=1)
ITERATIONS_PER_EXECUTION: Final = 300
"""About 15 history events a loop: 300 loops stay far below 25,000 events and 365 days."""


@runtime_checkable
class WallTimeMapping(Protocol):
    """A clock that is not the wall clock says when, in real time, its instants come."""

    def wall_time(self, instant: datetime) -> datetime: ...


def wake_at(clock: Clock, due_at: datetime) -> datetime:
    """The real instant the Wait state ends: the due time, or a day from now if that is sooner.

    Whole seconds, rounded up: a Wait state's timestamp has no fraction, and ending before
    the due instant would only cost a loop that decides nothing.
    """
    target = min(due_at, clock() + MAX_WAIT)
    if isinstance(clock, WallTimeMapping):
        target = clock.wall_time(target)
    return _ceil_to_second(target)


def seconds_until(instant: datetime) -> int:
    """Whole seconds of real time from now until `instant` (0 when it has passed)."""
    return max(0, math.ceil((instant - wall_clock()).total_seconds()))


def iso_utc(instant: datetime) -> str:
    """The ISO-8601 form a Wait state's TimestampPath accepts: `2015-01-29T09:00:00Z`."""
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ceil_to_second(instant: datetime) -> datetime:
    whole = instant.replace(microsecond=0)
    return whole if whole == instant else whole + timedelta(seconds=1)
