"""Applying one recorded event to every view: the projector's core, without Lambda.

For each target (a view's active generation, and the one a rebuild is filling):
- version ≤ checkpoint: a repeat, ignored;
- version = checkpoint + 1: applied, documents and checkpoint written in one commit;
- version > checkpoint + 1: a gap. The active generation waits (`StreamGapError`, so the
  record is retried in order later); a building generation skips it, because the rebuild
  reads every stream to its end after its last commit and picks the event up there.
A commit that loses a race (`CheckpointMovedError`) is recomputed from fresh checkpoints.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

from infra.eventstore import RecordedEvent
from infra.readmodels.documents import decode, encode
from infra.readmodels.store import (
    Checkpoint,
    CheckpointMovedError,
    Commit,
    Generations,
    ReadModelError,
    ReadModelStore,
    Target,
)
from infra.readmodels.view import Applied, View

MAX_ATTEMPTS: Final = 5


class StreamGapError(ReadModelError):
    """The event came before the one preceding it was applied: retry it, in order, later."""

    def __init__(self, stream_id: str, version: int, behind: Mapping[str, int]) -> None:
        self.stream_id = stream_id
        self.version = version
        self.behind = dict(behind)
        at = ", ".join(f"{view} at {applied}" for view, applied in sorted(behind.items()))
        super().__init__(f"{stream_id!r} v{version} arrived early ({at})")


class ViewFailedError(ReadModelError):
    """A view raised on an event; the other views applied it, this one did not."""

    def __init__(self, stream_id: str, version: int, views: Sequence[str]) -> None:
        self.stream_id = stream_id
        self.version = version
        self.views = tuple(views)
        super().__init__(f"{stream_id!r} v{version}: view(s) {', '.join(views)} failed")


@dataclass(frozen=True, slots=True)
class ProjectionTarget:
    """A view and the generation of it to write; `building` while a rebuild fills it."""

    view: View
    generation: int
    building: bool = False

    @property
    def key(self) -> Target:
        return Target(self.view.name, self.generation)


def projection_targets(
    views: Iterable[View], generations: Mapping[str, Generations]
) -> list[ProjectionTarget]:
    """Every generation of every view that must see new events."""
    targets: list[ProjectionTarget] = []
    for view in views:
        current = generations.get(view.name, Generations())
        targets.append(ProjectionTarget(view, current.active))
        if current.building is not None:
            targets.append(ProjectionTarget(view, current.building, building=True))
    return targets


def advance(view: View, checkpoint: Checkpoint | None, recorded: RecordedEvent) -> Applied:
    """The view applied to the event from its stored state (decoded afresh: it is the view's)."""
    state = decode(checkpoint.state) if checkpoint and checkpoint.state else None
    return view.apply(state, recorded)


def commit_of(
    target: Target,
    recorded: RecordedEvent,
    expected: int,
    applied: Applied,
    basis: object | None = None,
) -> Commit:
    state = None if applied.state is None else encode(applied.state)
    checkpoint = Checkpoint(recorded.version, state)
    return Commit(target, recorded.stream_id, expected, checkpoint, applied.writes, basis)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one event did: targets that applied it now, and those that already had."""

    applied: int = 0
    repeats: int = 0
    skipped: int = 0


@dataclass
class _Plan:
    commits: list[Commit] = field(default_factory=list)
    repeats: int = 0
    skipped: int = 0
    behind: dict[str, int] = field(default_factory=dict)
    failed: list[tuple[str, Exception]] = field(default_factory=list)


class Projector:
    def __init__(
        self, views: Iterable[View], store: ReadModelStore, *, max_attempts: int = MAX_ATTEMPTS
    ) -> None:
        self._views = tuple(views)
        self._store = store
        self._max_attempts = max_attempts

    def targets(self) -> list[ProjectionTarget]:
        """The targets to feed, read fresh (once per batch: a rebuild may have started)."""
        return projection_targets(self._views, self._store.generations())

    def project(
        self, recorded: RecordedEvent, targets: Sequence[ProjectionTarget] | None = None
    ) -> Outcome:
        """Apply the event to every target that is ready for it.

        Raises `ViewFailedError` when a view raised, else `StreamGapError` when an active
        generation has not applied the previous event yet; the other targets are written.
        """
        targets = self.targets() if targets is None else targets
        for _ in range(self._max_attempts):
            plan = self._plan(recorded, targets)
            try:
                self._store.commit(plan.commits)
            except CheckpointMovedError:
                continue  # another projector applied some of it first: decide again
            break
        else:
            raise CheckpointMovedError(
                f"{recorded.stream_id!r} v{recorded.version}: checkpoints kept moving, "
                f"gave up after {self._max_attempts} attempts"
            )
        if plan.failed:
            views = [view for view, _ in plan.failed]
            first = plan.failed[0][1]
            raise ViewFailedError(recorded.stream_id, recorded.version, views) from first
        if plan.behind:
            raise StreamGapError(recorded.stream_id, recorded.version, plan.behind)
        return Outcome(len(plan.commits), plan.repeats, plan.skipped)

    def _plan(self, recorded: RecordedEvent, targets: Sequence[ProjectionTarget]) -> _Plan:
        checkpoints = self._store.checkpoints(recorded.stream_id)
        plan = _Plan()
        for target in targets:
            checkpoint = checkpoints.get(target.key)
            applied_version = checkpoint.version if checkpoint else 0
            if recorded.version <= applied_version:
                plan.repeats += 1
            elif recorded.version > applied_version + 1:
                if target.building:
                    plan.skipped += 1
                else:
                    plan.behind[target.view.name] = applied_version
            else:
                try:
                    applied = advance(target.view, checkpoint, recorded)
                except Exception as error:  # one broken view must not stop the others
                    plan.failed.append((target.view.name, error))
                    continue
                plan.commits.append(
                    commit_of(target.key, recorded, applied_version, applied, checkpoints.basis)
                )
        return plan
