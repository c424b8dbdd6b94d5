"""The local stack's clock: program time stands still until moved, and Wait states poll it.

moto's Wait state sleeps in real time until its timestamp, while the round's dates are in
program time (round 3 runs from 2014 to 2015). `NextTransition` asks its clock where a due
instant falls in real time (`functions.lifecycle.policy.wake_at`): the wall clock answers
"then"; this clock answers "now" for an instant program time has reached, and "in one poll
interval" for one it has not, since only a call to `advance_to` brings that closer. So a
waiting execution re-reads the round about once a second, and a test or the demo drives the
whole lifecycle by moving the clock, without ever waiting for program time to pass.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Final

from infra.clock import Clock, ManualClock, wall_clock

POLL: Final = timedelta(seconds=1)
"""A Wait state's timestamp has whole seconds: one second is the shortest real wait."""


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
