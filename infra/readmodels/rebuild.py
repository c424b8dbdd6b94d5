"""Rebuilding views from the event store into a fresh generation while writes go on.

1. `start`: each view gets a new *building* generation; from the next batch on, the projector
   feeds it too (skipping what it has no checkpoint for yet).
2. `replay`: every stream is read in order and folded in memory, committed in chunks with the
   same conditional checkpoints the projector uses. After its last commit to a stream the
   rebuild reads the stream again, until a read finds nothing new: any event the projector
   skipped was already in the store by then, so that read finds it. A commit that loses a
   race with the projector starts the stream again from the checkpoints.
3. `switch`: readers move to the new generation; 4. `drop`: the old one is deleted (later).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Protocol

from infra.eventstore import DynamoDBEventStore, EventStore, RecordedEvent
from infra.readmodels.documents import DocKey, JsonObject, decode
from infra.readmodels.projector import ProjectionTarget, commit_of
from infra.readmodels.store import (
    Checkpoint,
    CheckpointMovedError,
    Commit,
    ReadModelStore,
)
from infra.readmodels.view import Applied, View

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
            "ExpressionAttributeNames": {"#v": "version"},
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
class _Fold:
    """One target's progress through one stream: applied in memory, committed in chunks."""

    target: ProjectionTarget
    committed: int
    state: JsonObject | None
    version: int = 0
    writes: dict[DocKey, str | None] = field(default_factory=dict)
    pending_bytes: int = 0
    last: RecordedEvent | None = None

    @classmethod
    def of(cls, target: ProjectionTarget, checkpoint: Checkpoint | None) -> _Fold:
        version = checkpoint.version if checkpoint else 0
        state = decode(checkpoint.state) if checkpoint and checkpoint.state else None
        return cls(target, version, state, version)

    def apply(self, recorded: RecordedEvent) -> None:
        if recorded.version != self.version + 1:
            return  # already applied: the reads start from the least advanced target
        applied = self.target.view.apply(self.state, recorded)
        self.state, self.version, self.last = applied.state, recorded.version, recorded
        for key, text in applied.writes.items():
            self.writes[key] = text
            self.pending_bytes += len(text or "")

    def full(self, items: int, size: int) -> bool:
        return len(self.writes) >= items or self.pending_bytes >= size

    def take(self) -> Commit | None:
        """The commit of everything applied since the last one (None when nothing was)."""
        if self.last is None or self.version == self.committed:
            return None
        commit = commit_of(
            self.target.key, self.last, self.committed, Applied(self.state, dict(self.writes))
        )
        self.committed, self.writes, self.pending_bytes = self.version, {}, 0
        return commit


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
        while True:
            checkpoints = self._store.checkpoints(stream_id)
            folds = [_Fold.of(t, checkpoints.get(t.key)) for t in targets]
            read_any = False
            try:
                for recorded in self._source.read(stream_id, min(f.version for f in folds)):
                    read_any = True
                    for fold in folds:
                        fold.apply(recorded)
                    full = [f for f in folds if f.full(self._flush_items, self._flush_bytes)]
                    if full:
                        self._store.commit([c for f in full if (c := f.take()) is not None])
                    counted = _count(done, counted, recorded.version)
                    if full:
                        report(done)
                self._store.commit([c for f in folds if (c := f.take()) is not None])
            except CheckpointMovedError:
                continue  # the projector applied some of these meanwhile: go on from there
            if not read_any:
                _count(done, counted, min(f.version for f in folds))
                return


def _count(done: Progress, counted: int, version: int) -> int:
    """Count a stream's events up to `version` once, however often a restart reads them."""
    if version > counted:
        done.events_done += version - counted
        done.events_total = max(done.events_total, done.events_done)
    return max(counted, version)
