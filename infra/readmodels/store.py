"""The read-model store's port: documents by view and generation, checkpoints, generations.

Every view is stored in *generations*. Readers read a view's active generation; a rebuild
fills a new one (the building generation) while the projector keeps feeding both, then
switches readers to it. Each (view, generation) — a `Target` — remembers per stream the last
version it applied and its state for that stream: a `Checkpoint`. A `Commit` writes a target's
changed documents together with its next checkpoint, and only if the checkpoint is still at
the version the commit was computed from, so no event is ever applied twice.

A stream's checkpoints are read together (`Checkpoints`) and may be stored together: the
DynamoDB store keeps them in one item per stream, each distinct state once. A commit computed
from such a read carries the read's `basis`, so the store need not read again to write them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from infra.readmodels.documents import DocKey

FIRST_GENERATION: Final = 1
"""The active generation of a view no rebuild has touched yet."""
MAX_COMMIT_ITEMS: Final = 100
"""A commit is one DynamoDB transaction: at most 100 items, the checkpoint included."""
MAX_TEXT_BYTES: Final = 350_000
"""A document or a state must fit one item (400 KB) with its keys."""
MAX_COMMIT_BYTES: Final = 3_500_000
"""A transaction carries at most 4 MB; room is left for keys and attribute names."""


class ReadModelError(Exception):
    """Base of every read-model error."""


class CheckpointMovedError(ReadModelError):
    """A checkpoint was not at the expected version: someone else applied first.

    Nothing of the failed group of commits was written; re-read the checkpoints and go on.
    """


class CommitTooLargeError(ReadModelError, ValueError):
    """A commit that no single transaction can hold: a view writes too much for one event."""


class GenerationChangedError(ReadModelError):
    """A view's generations changed under a rebuild (another rebuild of it started)."""


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """One generation of one view: what a commit writes to and a reader reads."""

    view: str
    generation: int


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The last version of a stream a target applied, and its state for that stream (JSON)."""

    version: int
    state: str | None = None


class Checkpoints(dict[Target, Checkpoint]):
    """Every target's checkpoint of one stream, as read together.

    `basis` is the store's own record of that read (None where a store keeps none): pass it
    on to the commits computed from these checkpoints. A store may bring it up to date as
    those commits are written, so one read serves a stream's consecutive commits.
    """

    __slots__ = ("basis",)

    def __init__(
        self, found: Mapping[Target, Checkpoint] | None = None, basis: object | None = None
    ) -> None:
        super().__init__(found or {})
        self.basis = basis


@dataclass(frozen=True, slots=True)
class Commit:
    """A target's changed documents and next checkpoint, conditional on `expected_version`.

    `basis`: that of the `Checkpoints` the commit was computed from, if any. Without one the
    store reads what it needs itself.
    """

    target: Target
    stream_id: str
    expected_version: int
    checkpoint: Checkpoint
    writes: Mapping[DocKey, str | None]
    basis: object | None = field(default=None, compare=False, repr=False)

    @property
    def size(self) -> int:
        """Items written: the documents plus the checkpoint."""
        return len(self.writes) + 1

    def texts(self) -> list[str]:
        """Every JSON text the commit stores: its documents and its state."""
        texts = [text for text in self.writes.values() if text is not None]
        if self.checkpoint.state is not None:
            texts.append(self.checkpoint.state)
        return texts

    def byte_size(self) -> int:
        return sum(len(text.encode()) for text in self.texts())


def check_expected(commit: Commit, current: Checkpoint | None) -> None:
    """A commit applies only where its target's checkpoint is still where it was read."""
    if (current.version if current else 0) != commit.expected_version:
        raise CheckpointMovedError(
            f"{commit.target}: {commit.stream_id!r} is not at version {commit.expected_version}"
        )


def check_commit(commit: Commit) -> None:
    """Refuse a commit no transaction could hold, before anything is written."""
    if commit.size > MAX_COMMIT_ITEMS:
        raise CommitTooLargeError(
            f"{commit.target.view}: {commit.size} items for one commit of "
            f"{commit.stream_id!r}, over {MAX_COMMIT_ITEMS}"
        )
    texts = commit.texts()
    lengths = [len(text) for text in texts]
    # A character is at most 4 bytes of UTF-8: most commits are plainly within the limits,
    # without encoding every text to count its bytes.
    if 4 * max(lengths, default=0) <= MAX_TEXT_BYTES and 4 * sum(lengths) <= MAX_COMMIT_BYTES:
        return
    sizes = [len(text.encode()) for text in texts]
    if sizes and max(sizes) > MAX_TEXT_BYTES:
        raise CommitTooLargeError(
            f"{commit.target.view}: a {max(sizes)}-byte document or state for "
            f"{commit.stream_id!r}, over {MAX_TEXT_BYTES}"
        )
    if sum(sizes) > MAX_COMMIT_BYTES:
        raise CommitTooLargeError(
            f"{commit.target.view}: {sum(sizes)} bytes for one commit of "
            f"{commit.stream_id!r}, over {MAX_COMMIT_BYTES}"
        )


@dataclass(frozen=True, slots=True)
class Generations:
    """The generation readers read, and the one a rebuild is filling (if any)."""

    active: int = FIRST_GENERATION
    building: int | None = None


class ReadModelStore(Protocol):
    def checkpoints(self, stream_id: str) -> Checkpoints:
        """Every target's checkpoint for the stream (targets that never saw it are absent)."""
        ...

    def commit(self, commits: Sequence[Commit]) -> None:
        """Write the commits; each one atomically, with its checkpoint condition.

        Raises `CheckpointMovedError` when a checkpoint moved — or, where a stream's
        checkpoints are stored together, when any of them moved since the commits' basis
        was read; commits written before the failing one stay written (each is whole on its
        own), so callers re-read and go on.
        """
        ...

    def generations(self) -> dict[str, Generations]:
        """Each view's generations, read fresh (views never rebuilt are absent: all first)."""
        ...

    def active_generation(self, view: str) -> int:
        """The generation readers of `view` read; may be a few seconds stale (cached)."""
        ...

    def start_generation(self, view: str) -> tuple[int, int | None]:
        """Register a new building generation of `view`; returns it and the one it replaced.

        A building generation left by an interrupted rebuild is replaced (and no longer fed).
        """
        ...

    def switch_generation(self, view: str, generation: int) -> int:
        """Make the building `generation` active; returns the previously active one.

        Raises `GenerationChangedError` when `generation` is no longer the one building.
        """
        ...

    def drop_generation(self, view: str, generation: int) -> int:
        """Delete a generation's documents and checkpoints; returns how many items went."""
        ...

    def document(self, target: Target, key: DocKey) -> str | None:
        """One document, or None."""
        ...

    def documents(
        self, target: Target, partition: str, *, after: str | None = None, limit: int | None = None
    ) -> Iterator[tuple[str, str]]:
        """(sort key, document) of a partition in sort order, after `after`, at most `limit`."""
        ...

    def items(self, target: Target) -> Iterator[tuple[DocKey, str]]:
        """Every document of a target, in no particular order (checks and maintenance)."""
        ...
