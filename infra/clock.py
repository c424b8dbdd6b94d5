"""The adapters' clock: what "now" is, as a callable the handlers are given."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime: ...


def wall_clock() -> datetime:
    return datetime.now(UTC)
