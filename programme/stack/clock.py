"""The local stack's clocks, chosen with `--clock`: the wall clock, or program time you move.

`wall` (the default): time passes as it does; a Wait state sleeps until the real due time.
`manual:2014-09-01T09:00:00Z`: a `DemoClock` standing at that instant until something moves it
(the demo does, to each due time of round 3). When the demo is done,
`DemoClock.follow_wall_clock` lets program time rejoin the present, so rounds scheduled
afterwards behave as with `wall`.

Why a Wait state polls: moto's Wait state sleeps in real time until its timestamp, while the
round's dates are in program time (round 3 runs from 2014 to 2015). `NextTransition` asks its
clock where a due instant falls in real time (`functions.lifecycle.policy.wake_at`): the wall
clock answers "then"; a `LocalClock` answers "now" for an instant program time has reached, and
"in one poll interval" for one it has not, since only a call to `advance_to` brings that closer.
So a waiting execution re-reads the round about once a second, and a test or the demo drives
the whole lifecycle by moving the clock, without ever waiting for program time to pass.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Final

from infra.clock import Clock, wall_clock

WALL = "wall"
MANUAL = "manual:"
POLL: Final = timedelta(seconds=1)
"""A Wait state's timestamp has whole seconds: one second is the shortest real wait."""


class ManualClock:
    """A clock that stands still until moved; moving it backwards is refused."""

    def __init__(self, start: datetime) -> None:
        self._now = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def advance_to(self, instant: datetime) -> None:
        with self._lock:
            if instant < self._now:
                raise ValueError(f"clock cannot move back from {self._now} to {instant}")
            self._now = instant

    def advance(self, delta: timedelta) -> None:
        self.advance_to(self() + delta)


class LocalClock(ManualClock):
    """A manual clock whose future instants are, in real time, one poll interval away."""

    def __init__(
        self, start: datetime, *, poll: timedelta = POLL, wall: Clock = wall_clock
    ) -> None:
        super().__init__(start)
        self._poll = poll
        self._wall = wall

    def wall_time(self, instant: datetime) -> datetime:
        """When a Wait state for program time `instant` should end, in real time."""
        real_now = self._wall()
        return real_now if instant <= self() else real_now + self._poll


class DemoClock(LocalClock):
    """A `LocalClock` that can hand over to the wall clock once nothing moves it any more."""

    def __init__(self, start: datetime, *, wall: Clock = wall_clock) -> None:
        super().__init__(start, wall=wall)
        self._wall_clock = wall
        self._following = threading.Event()

    @property
    def follows_wall_clock(self) -> bool:
        return self._following.is_set()

    def __call__(self) -> datetime:
        return self._wall_clock() if self._following.is_set() else super().__call__()

    def follow_wall_clock(self) -> None:
        """From now on, read the wall clock (program time must not be ahead of it)."""
        now = self._wall_clock()
        self.advance_to(now)
        self._following.set()

    def advance_to(self, instant: datetime) -> None:
        if self._following.is_set():
            raise ValueError("the clock follows the wall clock now: it cannot be moved")
        super().advance_to(instant)

    def wall_time(self, instant: datetime) -> datetime:
        return instant if self._following.is_set() else super().wall_time(instant)


def parse_clock(option: str) -> Clock:
    """`wall`, or `manual:<ISO-8601 instant with a zone>` (a `DemoClock` standing there)."""
    if option == WALL:
        return wall_clock
    if option.startswith(MANUAL):
        text = option.removeprefix(MANUAL)
        try:
            start = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO-8601 instant: {text!r}") from None
        if start.tzinfo is None:
            raise ValueError(f"give the instant a zone (Z or +01:00): {text!r}")
        return DemoClock(start.astimezone(UTC))
    raise ValueError(f"--clock is {WALL!r} or 'manual:<ISO-8601 instant>', not {option!r}")


def describe(clock: Clock) -> str:
    if isinstance(clock, DemoClock) and clock.follows_wall_clock:
        return "the wall clock, since the demo ended"
    if isinstance(clock, LocalClock):
        return f"manual, standing at {clock():%Y-%m-%dT%H:%M:%SZ} until moved"
    return "the wall clock"
