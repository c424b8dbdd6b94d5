"""What a view is: a pure function from (its state for one stream, the next event) to writes.

A view sees the events of every stream in order, one at a time. It keeps whatever it needs
to remember about a stream in a small JSON state (stored beside the stream's checkpoint) and
returns the documents the event changed, already encoded. No I/O, no clock: the projector
and the rebuild do the storing, so the same view code serves both.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol

from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject

Writes = Mapping[DocKey, str | None]
"""Documents to store (JSON text) or to delete (None), by key."""


@dataclass(frozen=True, slots=True)
class Applied:
    """A view's state after an event, and the documents the event changed."""

    state: JsonObject | None
    writes: Writes = field(default_factory=dict)


class View(Protocol):
    @property
    def name(self) -> str:
        """The view's stable name: part of every key it stores, and of `programme rebuild`."""
        ...

    def apply(self, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        """The state and writes after `recorded`, the next event of its stream.

        `state` is the caller's to give away: a view may change it in place and return it.
        Streams a view does not care about leave the state as it is and write nothing.
        """
        ...
