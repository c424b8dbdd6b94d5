"""What a view is: a pure function from (its state for one stream, the next event) to writes.

A view sees the events of every stream in order, one at a time. It keeps whatever it needs
to remember about a stream in a small JSON state (stored beside the stream's checkpoint) and
returns the documents the event changed, already encoded. No I/O, no clock: the projector
and the rebuild do the storing, so the same view code serves both.

The rebuild goes through whole streams, so it folds them instead (`Fold`): a view that names
a `fold_kind` is folded by it, several views of one kind together, and derives its documents
when the fold is taken, not after every event. A view without one is folded through `apply`
(`ApplyFold`). Either way a fold's documents and state equal those of `apply` event by event.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from infra.eventstore import RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, decode, encode

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


@dataclass(frozen=True, slots=True)
class Taken:
    """A view's state (encoded) as a fold stands, and the documents changed since last taken."""

    state: str | None
    writes: Writes


class Fold(Protocol):
    """One stream's events folded in memory for one or more views, from one checkpoint."""

    version: int
    """The last version folded in (or the checkpoint's, before any)."""

    def add(self, recorded: RecordedEvent) -> None:
        """Fold in the stream's next event (`version + 1`)."""
        ...

    def full(self, items: int, size: int) -> bool:
        """Whether a view's writes since last taken may reach `items` documents or `size` bytes."""
        ...

    def take(self) -> list[Taken]:
        """Each view's state and writes since last taken, in the order the views were given."""
        ...


class FoldKind(Protocol):
    def fold(self, views: Sequence[View], state: JsonObject | None, version: int) -> Fold:
        """A fold of `views` (all of this kind), each at `version` with `state`."""
        ...


def fold_kind(view: View) -> FoldKind | None:
    """How the view is folded with others of its kind (None: alone, through `apply`)."""
    kind: FoldKind | None = getattr(view, "fold_kind", None)
    return kind


class ApplyFold:
    """Views folded through `apply`, event by event: their writes merged, the last one kept."""

    def __init__(self, views: Sequence[View], state: JsonObject | None, version: int) -> None:
        self.version = version
        self._views = views
        self._states = [state if n == 0 else _copy(state) for n in range(len(views))]
        self._writes: list[dict[DocKey, str | None]] = [{} for _ in views]
        self._items = self._bytes = 0  # the most any view has gathered

    def add(self, recorded: RecordedEvent) -> None:
        self.version = recorded.version
        for n, view in enumerate(self._views):
            applied = view.apply(self._states[n], recorded)
            self._states[n] = applied.state
            if applied.writes:
                writes = self._writes[n]
                writes.update(applied.writes)
                self._items = max(self._items, len(writes))
                self._bytes += sum(len(text or "") for text in applied.writes.values())

    def full(self, items: int, size: int) -> bool:
        return self._items >= items or self._bytes >= size

    def take(self) -> list[Taken]:
        taken = [
            Taken(None if state is None else encode(state), writes)
            for state, writes in zip(self._states, self._writes, strict=True)
        ]
        self._writes = [{} for _ in self._views]
        self._items = self._bytes = 0
        return taken


def _copy(state: JsonObject | None) -> JsonObject | None:
    """A state of its own for each view (a view may change the one it is given)."""
    return None if state is None else decode(encode(state))
