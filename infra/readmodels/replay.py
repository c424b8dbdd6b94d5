"""Replaying what the projector gave up on, from the event store (`programme replay-failures`).

When the projector's stream mapping runs out of retries on a record (a view that raised on
it, say), Lambda sends its on-failure queue a message naming the records — not holding them:

    {"requestContext": {...}, "responseContext": {...}, "version": "1.0", "timestamp": ...,
     "DDBStreamBatchInfo": {"shardId": ..., "startSequenceNumber": ...,
                            "endSequenceNumber": ..., "approximateArrivalOfFirstRecord": ...,
                            "approximateArrivalOfLastRecord": ..., "batchSize": ...,
                            "streamArn": ...}}

Once the view is fixed, each message is replayed:

1. Which event streams? The stream records in the message's range, read back from DynamoDB
   Streams while they are still there (24 hours), name them. After that — or when the range
   cannot be read whole — every event stream whose read-model checkpoints lag the event store
   is taken instead (found once per run).
2. Each of those streams is caught up from the event store, the source of truth: its events
   after the least advanced view's checkpoint are applied by the projector's own core, so a
   view that already has an event skips it, and the live projector may run meanwhile.
3. The message is deleted only once every one of its streams is caught up (checked by reading
   the checkpoints back). A message that could not be replayed is kept, and released at the
   end of the run so the next run sees it at once.

Running it again changes nothing: what is caught up is only ever skipped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final

from infra.readmodels.failure_queue import FailureQueue, Message
from infra.readmodels.projector import ProjectionTarget, Projector, ViewFailedError
from infra.readmodels.rebuild import StreamSource
from infra.readmodels.store import ReadModelStore
from infra.readmodels.stream_records import BatchInfo, StreamRecords, UnreadableMessageError

if TYPE_CHECKING:
    from infra.readmodels.view import View

RECEIVE_BATCH: Final = 10  # SQS's maximum


class StreamNotCaughtUpError(Exception):
    """A stream's views did not reach the version read from the store."""


@dataclass(frozen=True, slots=True)
class Replayed:
    """What became of one message."""

    message_id: str
    deleted: bool
    streams: tuple[str, ...] = ()
    found_by: str = ""  # "stream records" or "lagging checkpoints"
    events_applied: int = 0
    reason: str | None = None  # why it was kept


@dataclass
class Summary:
    replayed: list[Replayed] = field(default_factory=list)

    @property
    def deleted(self) -> list[Replayed]:
        return [r for r in self.replayed if r.deleted]

    @property
    def kept(self) -> list[Replayed]:
        return [r for r in self.replayed if not r.deleted]

    @property
    def streams(self) -> set[str]:
        return {s for r in self.deleted for s in r.streams}

    @property
    def events_applied(self) -> int:
        return sum(r.events_applied for r in self.replayed)


@dataclass
class _CatchUp:
    streams: tuple[str, ...]
    applied: int = 0
    failure: str | None = None


class Replayer:
    """Replays on-failure messages by catching their event streams up from the event store."""

    def __init__(
        self,
        views: Iterable[View],
        store: ReadModelStore,
        source: StreamSource,
        records: StreamRecords | None,
    ) -> None:
        self._projector = Projector(views, store)
        self._store = store
        self._source = source
        self._records = records
        self._targets: list[ProjectionTarget] | None = None
        self._lagging: _CatchUp | None = None
        self._caught_up: dict[str, _CatchUp] = {}

    def run(self, queue: FailureQueue, report: Callable[[Replayed], None] | None = None) -> Summary:
        """Replay every message on the queue; returns what became of each."""
        summary = Summary()
        held: list[Message] = []
        seen: set[str] = set()
        try:
            while batch := [m for m in queue.receive(RECEIVE_BATCH) if m.message_id not in seen]:
                for message in batch:
                    seen.add(message.message_id)
                    outcome = self.replay(message)
                    if outcome.deleted:
                        queue.delete(message)
                    else:
                        held.append(message)
                    summary.replayed.append(outcome)
                    if report is not None:
                        report(outcome)
        finally:
            for message in held:  # kept: visible again for the next run, now
                queue.release(message)
        return summary

    def replay(self, message: Message) -> Replayed:
        """Catch up the streams one message names; `deleted` says it may be deleted."""
        try:
            info = BatchInfo.from_message(message.body)
        except UnreadableMessageError as error:
            return Replayed(message.message_id, deleted=False, reason=str(error))
        named = self._records.stream_ids(info) if self._records is not None else None
        if named is None:
            result = self._catch_up_lagging()
            found_by = "lagging checkpoints"
        else:
            result = self._catch_up_all(sorted(named))
            found_by = "stream records"
        return Replayed(
            message.message_id,
            deleted=result.failure is None,
            streams=result.streams,
            found_by=found_by,
            events_applied=result.applied,
            reason=result.failure,
        )

    def lagging(self) -> list[str]:
        """Every event stream some view's active generation has not caught up with."""
        active = [t for t in self._ensure_targets() if not t.building]
        behind: list[str] = []
        for stream_id, last in self._source.streams():
            checkpoints = self._store.checkpoints(stream_id)
            versions = [checkpoints[t.key].version if t.key in checkpoints else 0 for t in active]
            if min(versions, default=last) < last:
                behind.append(stream_id)
        return behind

    def catch_up(self, stream_id: str) -> int:
        """Apply the stream's events the views lack; returns how many events any view applied.

        Raises `ViewFailedError` when a view still fails on one, and `StreamNotCaughtUpError`
        when the checkpoints read back are not at the version the store was read to.
        """
        targets = self._ensure_targets()
        active = [t for t in targets if not t.building]
        checkpoints = self._store.checkpoints(stream_id)
        start = min(
            (checkpoints[t.key].version if t.key in checkpoints else 0 for t in active), default=0
        )
        applied = 0
        last = start
        for recorded in self._source.read(stream_id, start):
            outcome = self._projector.project(recorded, targets)
            applied += outcome.applied > 0
            last = recorded.version
        after = self._store.checkpoints(stream_id)
        short = sorted(
            t.key.view for t in active if (after[t.key].version if t.key in after else 0) < last
        )
        if short:
            raise StreamNotCaughtUpError(f"{stream_id!r}: {', '.join(short)} short of v{last}")
        return applied

    def _catch_up_lagging(self) -> _CatchUp:
        if self._lagging is None:  # once per run: a later message finds them caught up
            self._lagging = self._catch_up_all(self.lagging())
            return self._lagging
        return _CatchUp(self._lagging.streams, 0, self._lagging.failure)

    def _catch_up_all(self, stream_ids: Sequence[str]) -> _CatchUp:
        result = _CatchUp(tuple(stream_ids))
        failures: list[str] = []
        for stream_id in stream_ids:
            try:
                result.applied += self.catch_up(stream_id)
            except ViewFailedError as error:
                cause = type(error.__cause__).__name__ if error.__cause__ else "error"
                failures.append(
                    f"{stream_id} v{error.version}: view {', '.join(error.views)} failed ({cause})"
                )
            except Exception as error:  # the type only: a message may quote a payload
                failures.append(f"{stream_id}: {type(error).__name__}")
        if failures:
            result.failure = "; ".join(failures)
        return result

    def _ensure_targets(self) -> list[ProjectionTarget]:
        if self._targets is None:  # read once per run, as the projector does per batch
            self._targets = self._projector.targets()
        return self._targets


# -- the command line -------------------------------------------------------------------------
