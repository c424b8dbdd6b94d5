"""Rebuilding views from the event store into a fresh generation while writes go on.

1. `start`: each view gets a new *building* generation; from the next batch on, the projector
   feeds it too (skipping what it has no checkpoint for yet).
2. `replay`: every stream is read in order and folded in memory — views of one kind that
   start from the same checkpoint together (`infra.readmodels.view.Fold`), their documents
   derived when a chunk is committed, not after every event — and committed in chunks with
   the same conditional checkpoints the projector uses. After its last commit to a stream the
   rebuild reads the stream again, until a read finds nothing new: any event the projector
   skipped was already in the store by then, so that read finds it. A commit that loses a
   race with the projector starts the stream again from the checkpoints.
3. `switch`: readers move to the new generation; 4. `drop`: the old one is deleted (later).

Every commit is whole with its checkpoint, so a rebuild that stops anywhere loses nothing and
applies nothing twice when run again (it goes on from the checkpoints); readers see the new
generation only once `switch` is called, after the whole replay.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Protocol

from infra.eventstore import DynamoDBEventStore, EventStore, RecordedEvent
from infra.eventstore.dynamodb import TIP_VERSION
from infra.readmodels.documents import decode
from infra.readmodels.projector import ProjectionTarget
from infra.readmodels.store import (
    Checkpoint,
    CheckpointMovedError,
    Checkpoints,
    Commit,
    ReadModelStore,
)
from infra.readmodels.view import ApplyFold, Fold, View, fold_kind

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import ScanInputTypeDef

FLUSH_ITEMS: Final = 90
"""Documents a target gathers in memory before it commits (one transaction holds 100 items)."""
FLUSH_BYTES: Final = 2_000_000


class StreamSource(Protocol):
    """Where a rebuild reads events from: the list of streams, and each stream in order."""

    def streams(self) -> list[tuple[str, int]]:
        """Every stream id with its last version, as of now."""
        ...

    def read(self, stream_id: str, after_version: int) -> Iterator[RecordedEvent]: ...


class DynamoDBStreamSource:
    """Streams of the event-store table: listed by a consistent scan of its keys."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._store = DynamoDBEventStore(client, table_name)

    def streams(self) -> list[tuple[str, int]]:
        last: dict[str, int] = {}
        scan: ScanInputTypeDef = {
            "TableName": self._table,
            "ProjectionExpression": "stream_id, #v",
            "FilterExpression": "#v > :tip",  # events only, not the streams' tips
            "ExpressionAttributeNames": {"#v": "version"},
            "ExpressionAttributeValues": {":tip": {"N": str(TIP_VERSION)}},
            "ConsistentRead": True,  # a stream appended just before must be listed
        }
        while True:
            page = self._client.scan(**scan)
            for item in page["Items"]:
                stream_id, version = item["stream_id"]["S"], int(item["version"]["N"])
                last[stream_id] = max(version, last.get(stream_id, 0))
            if "LastEvaluatedKey" not in page:
                break
            scan["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return sorted(last.items())

    def read(self, stream_id: str, after_version: int) -> Iterator[RecordedEvent]:
        return self._store.read(stream_id, after_version)


class KnownStreams:
    """Named streams of any event store (the in-memory store cannot list its streams)."""

    def __init__(self, store: EventStore, stream_ids: Iterable[str]) -> None:
        self._store = store
        self._stream_ids = tuple(stream_ids)

    def streams(self) -> list[tuple[str, int]]:
        """The named streams that exist (a listing can only find those)."""
        found = ((s, self._store.last_version(s)) for s in self._stream_ids)
        return sorted((stream_id, last) for stream_id, last in found if last > 0)

    def read(self, stream_id: str, after_version: int) -> Iterator[RecordedEvent]:
        return self._store.read(stream_id, after_version)


@dataclass
class Progress:
    """How far a replay is: events and streams done, of those listed (events may grow)."""

    events_done: int = 0
    events_total: int = 0
    streams_done: int = 0
    streams_total: int = 0


@dataclass(frozen=True, slots=True)
class Started:
    """The generations a rebuild fills, and building ones it replaced (to drop later)."""

    generations: Mapping[str, int]
    abandoned: Mapping[str, int]


@dataclass
class _Group:
    """Targets folded together from one checkpoint, and the version their commits are at."""

    targets: list[ProjectionTarget]
    fold: Fold
    committed: int

    def commits(self, stream_id: str, basis: object | None) -> list[Commit]:
        """The commits of everything folded since the last ones (none when nothing was)."""
        if self.fold.version == self.committed:
            return []
        version = self.fold.version
        commits = [
            Commit(
                target.key,
                stream_id,
                self.committed,
                Checkpoint(version, taken.state),
                taken.writes,
                basis,
            )
            for target, taken in zip(self.targets, self.fold.take(), strict=True)
        ]
        self.committed = version
        return commits


def _groups(targets: Sequence[ProjectionTarget], checkpoints: Checkpoints) -> list[_Group]:
    """The targets' folds: those of one kind at one checkpoint (version and state) share one."""
    members: dict[tuple[object, int, str | None], list[ProjectionTarget]] = {}
    for target in targets:
        checkpoint = checkpoints.get(target.key) or Checkpoint(0)
        folds_with = fold_kind(target.view) or target.key  # no kind: a fold of its own
        members.setdefault((folds_with, checkpoint.version, checkpoint.state), []).append(target)
    groups: list[_Group] = []
    for (_, version, text), together in members.items():
        views = [target.view for target in together]
        state = None if text is None else decode(text)  # decoded afresh: a fold may change it
        kind = fold_kind(views[0])
        fold = (
            ApplyFold(views, state, version) if kind is None else kind.fold(views, state, version)
        )
        groups.append(_Group(together, fold, version))
    return groups


class Rebuilder:
    def __init__(
        self,
        views: Sequence[View],
        store: ReadModelStore,
        source: StreamSource,
        *,
        flush_items: int = FLUSH_ITEMS,
        flush_bytes: int = FLUSH_BYTES,
    ) -> None:
        self._views = {view.name: view for view in views}
        self._store = store
        self._source = source
        self._flush_items = flush_items
        self._flush_bytes = flush_bytes

    def start(self) -> Started:
        """Give every view a new building generation (the projector feeds it from now on)."""
        generations: dict[str, int] = {}
        abandoned: dict[str, int] = {}
        for name in self._views:
            generations[name], stale = self._store.start_generation(name)
            if stale is not None:
                abandoned[name] = stale
        return Started(generations, abandoned)

    def replay(
        self, generations: Mapping[str, int], progress: Callable[[Progress], None] | None = None
    ) -> Progress:
        """Fold every stream into the building generations; reports after each commit."""
        targets = [
            ProjectionTarget(self._views[name], generation, building=True)
            for name, generation in generations.items()
        ]
        streams = self._source.streams()
        done = Progress(0, sum(last for _, last in streams), 0, len(streams))
        report = progress or (lambda _: None)
        report(done)
        for stream_id, _ in streams:
            self._catch_up(stream_id, targets, done, report)
            done.streams_done += 1
            report(done)
        return done

    def switch(self, generations: Mapping[str, int]) -> dict[str, int]:
        """Move readers to the rebuilt generations; returns the ones they read before."""
        return {
            name: self._store.switch_generation(name, generation)
            for name, generation in generations.items()
        }

    def drop(self, generations: Iterable[tuple[str, int]]) -> int:
        """Delete replaced generations (view, generation); returns the items deleted."""
        return sum(
            self._store.drop_generation(name, generation) for name, generation in generations
        )

    def _catch_up(
        self,
        stream_id: str,
        targets: Sequence[ProjectionTarget],
        done: Progress,
        report: Callable[[Progress], None],
    ) -> None:
        counted = 0  # the highest version counted in the progress (a restart reads again)
        items, size = self._flush_items, self._flush_bytes
        checkpoints = self._store.checkpoints(stream_id)
        groups = _groups(targets, checkpoints)
        while True:
            # Each fold with its methods looked up once, not once an event.
            folds = [(group.fold, group.fold.add, group.fold.full) for group in groups]
            start = min(fold.version for fold, _, _ in folds)
            read_any = False
            try:
                for recorded in self._source.read(stream_id, start):
                    read_any = True
                    version = recorded.version
                    previous = version - 1
                    full = False
                    for fold, add, is_full in folds:
                        if fold.version == previous:  # else it has this event already
                            add(recorded)
                            if is_full(items, size):
                                full = True
                    if version > counted:
                        done.events_done += version - counted
                        counted = version
                    if full:
                        full_groups = [g for g in groups if g.fold.full(items, size)]
                        self._commit(stream_id, full_groups, checkpoints.basis)
                        done.events_total = max(done.events_total, done.events_done)
                        report(done)
                self._commit(stream_id, groups, checkpoints.basis)
            except CheckpointMovedError:
                # The projector applied some of these meanwhile: go on from its checkpoints.
                checkpoints = self._store.checkpoints(stream_id)
                groups = _groups(targets, checkpoints)
                continue
            done.events_total = max(done.events_total, done.events_done)
            if not read_any:  # the folds are as committed: nothing came after the last read
                _count(done, counted, start)
                return

    def _commit(self, stream_id: str, groups: Sequence[_Group], basis: object | None) -> None:
        commits = [commit for group in groups for commit in group.commits(stream_id, basis)]
        if commits:
            self._store.commit(commits)


def _count(done: Progress, counted: int, version: int) -> int:
    """Count a stream's events up to `version` once, however often a restart reads them."""
    if version > counted:
        done.events_done += version - counted
        done.events_total = max(done.events_total, done.events_done)
    return max(counted, version)
