"""How the lifecycle waits: until the next transition is due, and how long an execution lives.

A Wait lasts until the round's next transition is due, however far off: a change to the
dates does not need the loop to look again, because the change itself is acted on. The
starter reads `RoundRescheduled` and `RoundCancelled` from the event stream and stops the
round's running execution; for a reschedule it starts the execution named after the new
schedule (`executions`), which reads the new dates at once. So an earlier date is met on
time, a later one is not fired early (a transition not yet due decides nothing anyway), and
a cancelled round's execution ends when the cancellation is durable. As a safety net an
execution that finds a schedule newer than its own (a hand-over that raced the starter, a
reconciler restart from an old name) hands the round to that schedule's execution and ends.

Step Functions bounds a Standard execution at one year and 25,000 history events, and a
Wait can last no longer. An execution therefore hands the round to its next generation once
it has lived `RENEW_AFTER` (its Wait never goes past that instant), or after
`ITERATIONS_PER_EXECUTION` loops, whichever comes first. Its age is measured on the
functions' clock from its first `NextTransition`: on AWS the wall clock, at the execution's
start (within the task's retries, minutes); locally program time, so the local stack and the
cost bench hand over where AWS would.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol, runtime_checkable

from infra.clock import Clock, wall_clock

RENEW_AFTER: Final = timedelta(days=330)
"""An execution hands over after this long: 35 days short of Step Functions' one-year limit,
far more than the retries of the few tasks between its last Wait and its hand-over take."""

ITERATIONS_PER_EXECUTION: Final = 300
"""About 15 history events a loop: 300 loops stay far below 25,000 events. On AWS a round
loops about once per transition; the bound matters for a loop that keeps finding its
transition not yet due, and locally, where a waiting execution polls its clock."""


@runtime_checkable
class WallTimeMapping(Protocol):
    """A clock that is not the wall clock says when, in real time, its instants come."""

    def wall_time(self, instant: datetime) -> datetime: ...


def renew_at(started_at: datetime) -> datetime:
    """When an execution whose first loop ran at `started_at` hands the round over."""
    return started_at + RENEW_AFTER


def must_renew(clock: Clock, started_at: datetime, iteration: int) -> bool:
    """Whether the execution has lived, or looped, long enough to hand over."""
    return clock() >= renew_at(started_at) or iteration > ITERATIONS_PER_EXECUTION


def wake_at(clock: Clock, due_at: datetime, started_at: datetime) -> datetime:
    """The real instant the Wait state ends: when the transition is due, or when the
    execution must hand over if that comes first (a Wait may not outlast the execution).

    Whole seconds, rounded up: a Wait state's timestamp has no fraction, and ending before
    the due instant would only cost a loop that decides nothing.
    """
    target = min(due_at, renew_at(started_at))
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
