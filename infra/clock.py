"""Clocks: the wall clock, and one a demo or a test moves by hand."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def wall_clock() -> datetime:
    return datetime.now(UTC)


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
