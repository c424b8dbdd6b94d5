"""`programme replay-failures`: replay what the projector gave up on, from the event store.

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

import argparse
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol

from infra.readmodels.projector import ProjectionTarget, Projector, ViewFailedError
from infra.readmodels.rebuild import StreamSource
from infra.readmodels.store import ReadModelStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
    from mypy_boto3_sqs import SQSClient
    from rich.console import Console

    from infra.readmodels.view import View

QUEUE_URL_VARIABLE: Final = "PROJECTOR_FAILURE_QUEUE_URL"
VISIBILITY_SECONDS: Final = 300
"""How long a received message stays hidden from other readers while this run holds it."""
RECEIVE_BATCH: Final = 10  # SQS's maximum
MAX_EMPTY_PAGES: Final = 5
"""Empty `GetRecords` pages tolerated while reading a range (a shard may need a few)."""


class UnreadableMessageError(ValueError):
    """A queue message that is not a DynamoDB stream's on-failure record."""


class StreamNotCaughtUpError(Exception):
    """A stream's views did not reach the version read from the store."""


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """`DDBStreamBatchInfo`: which records of which stream (and shard) Lambda gave up on."""

    stream_arn: str
    start_sequence_number: str
    end_sequence_number: str
    shard_id: str | None = None
    batch_size: int | None = None

    @classmethod
    def from_message(cls, body: str) -> BatchInfo:
        try:
            info = json.loads(body)["DDBStreamBatchInfo"]
            start, end = str(info["startSequenceNumber"]), str(info["endSequenceNumber"])
            int(start), int(end)  # numeric strings, compared as numbers
            size = info.get("batchSize")
            return cls(
                stream_arn=str(info["streamArn"]),
                start_sequence_number=start,
                end_sequence_number=end,
                shard_id=str(info["shardId"]) if info.get("shardId") else None,
                batch_size=int(size) if size is not None else None,
            )
        except (ValueError, TypeError, KeyError) as error:
            raise UnreadableMessageError(
                f"not a DynamoDB stream on-failure record ({type(error).__name__})"
            ) from error


@dataclass(frozen=True, slots=True)
class Message:
    message_id: str
    receipt_handle: str
    body: str


class FailureQueue(Protocol):
    def receive(self, max_messages: int) -> list[Message]:
        """Up to `max_messages` visible messages, hidden from other readers while held."""
        ...

    def delete(self, message: Message) -> None: ...

    def release(self, message: Message) -> None:
        """Make a held message visible again at once."""
        ...


class SqsFailureQueue:
    """The on-failure queue on SQS."""

    def __init__(
        self,
        client: SQSClient,
        queue_url: str,
        *,
        visibility_seconds: int = VISIBILITY_SECONDS,
        wait_seconds: int = 1,
    ) -> None:
        self._client = client
        self._url = queue_url
        self._visibility = visibility_seconds
        self._wait = wait_seconds

    def receive(self, max_messages: int) -> list[Message]:
        response = self._client.receive_message(
            QueueUrl=self._url,
            MaxNumberOfMessages=max_messages,
            VisibilityTimeout=self._visibility,
            WaitTimeSeconds=self._wait,  # long polling: an empty answer means an empty queue
        )
        return [
            Message(m["MessageId"], m["ReceiptHandle"], m.get("Body", ""))
            for m in response.get("Messages", [])
        ]

    def delete(self, message: Message) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=message.receipt_handle)

    def release(self, message: Message) -> None:
        self._client.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=message.receipt_handle, VisibilityTimeout=0
        )


class StreamRecords(Protocol):
    def stream_ids(self, info: BatchInfo) -> frozenset[str] | None:
        """The event streams of the records in the range, or None when it cannot be read whole."""
        ...


class DynamoDBStreamRecords:
    """Reads a range of stream records back from DynamoDB Streams, while they are kept."""

    def __init__(
        self, client: DynamoDBStreamsClient, *, max_empty_pages: int = MAX_EMPTY_PAGES
    ) -> None:
        self._client = client
        self._max_empty_pages = max_empty_pages

    def stream_ids(self, info: BatchInfo) -> frozenset[str] | None:
        try:
            shards = [info.shard_id] if info.shard_id else self._shards_holding(info)
            for shard_id in shards:
                found = self._read(info, shard_id)
                if found is not None:
                    return found
        except Exception:  # trimmed, expired, a shard or stream gone: the store decides instead
            return None
        return None

    def _shards_holding(self, info: BatchInfo) -> list[str]:
        start = int(info.start_sequence_number)
        shards: list[str] = []
        request: dict[str, Any] = {"StreamArn": info.stream_arn}
        while True:
            description = self._client.describe_stream(**request)["StreamDescription"]
            for shard in description.get("Shards", []):
                numbers = shard.get("SequenceNumberRange", {})
                first = int(numbers.get("StartingSequenceNumber", "0"))
                last = numbers.get("EndingSequenceNumber")
                if first <= start and (last is None or start <= int(last)):
                    shards.append(shard["ShardId"])
            last_shard = description.get("LastEvaluatedShardId")
            if not last_shard:
                return shards
            request["ExclusiveStartShardId"] = last_shard

    def _read(self, info: BatchInfo, shard_id: str) -> frozenset[str] | None:
        start, end = int(info.start_sequence_number), int(info.end_sequence_number)
        iterator: str | None = self._client.get_shard_iterator(
            StreamArn=info.stream_arn,
            ShardId=shard_id,
            ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info.start_sequence_number,
        )["ShardIterator"]
        found: set[str] = set()
        seen_start = False
        empty = 0
        while iterator and empty <= self._max_empty_pages:
            page = self._client.get_records(ShardIterator=iterator)
            records = page.get("Records", [])
            empty = 0 if records else empty + 1
            for record in records:
                number = int(record["dynamodb"]["SequenceNumber"])
                if number < start:
                    continue
                if number > end:
                    return frozenset(found) if seen_start else None
                seen_start = seen_start or number == start
                image = record["dynamodb"].get("NewImage") or {}
                if "stream_id" in image:
                    found.add(str(image["stream_id"]["S"]))
                if number == end:
                    return frozenset(found) if seen_start else None
            iterator = page.get("NextShardIterator")
        return None  # the end of the range was never reached: not read whole


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


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--queue-url",
        default=os.environ.get(QUEUE_URL_VARIABLE),
        help=(
            "the projector's on-failure queue: the stack's ProjectorFailureQueueUrl output "
            f"(default: ${QUEUE_URL_VARIABLE})"
        ),
    )
    parser.add_argument(
        "--wait",
        type=int,
        default=1,
        help="seconds to long-poll the queue before calling it empty (default 1)",
    )
    parser.add_argument(
        "--visibility",
        type=int,
        default=VISIBILITY_SECONDS,
        help=f"seconds a message is hidden while held (default {VISIBILITY_SECONDS})",
    )


def replay_failures_command(args: argparse.Namespace) -> int:
    """Drain the projector's on-failure queue on the tables the environment names."""
    import boto3
    from rich.console import Console

    from functions.common import bootstrap
    from functions.common.settings import settings
    from infra.readmodels.rebuild import DynamoDBStreamSource
    from infra.readmodels.views import VIEWS

    console = Console()
    if not args.queue_url:
        console.print(f"[red]No queue: pass --queue-url or set {QUEUE_URL_VARIABLE}[/red]")
        return 2
    region = settings().region or None
    queue = SqsFailureQueue(
        boto3.client("sqs", region_name=region),
        args.queue_url,
        visibility_seconds=args.visibility,
        wait_seconds=args.wait,
    )
    replayer = Replayer(
        VIEWS.values(),
        bootstrap.read_models(),
        DynamoDBStreamSource(bootstrap.dynamodb_client(), settings().require("event_store_table")),
        DynamoDBStreamRecords(boto3.client("dynamodbstreams", region_name=region)),
    )
    return run_replay(replayer, queue, console=console)


def run_replay(replayer: Replayer, queue: FailureQueue, *, console: Console) -> int:
    """Replay with a line per message and a summary; 0 when the queue was drained, else 1."""
    from rich.table import Table

    console.print("Replaying the projector's on-failure queue from the event store")
    with console.status("reading the queue…") as status:
        read: list[Replayed] = []

        def report(outcome: Replayed) -> None:
            read.append(outcome)
            streams = ", ".join(outcome.streams) or "none"
            if outcome.deleted:
                console.print(
                    f"[green]✓[/green] {outcome.message_id}: {streams} "
                    f"(by {outcome.found_by}), {outcome.events_applied} events applied — deleted"
                )
            else:
                console.print(f"[red]✗[/red] {outcome.message_id}: kept — {outcome.reason}")
            status.update(f"{len(read)} message(s) replayed; reading the queue…")

        summary = replayer.run(queue, report)
    table = Table(title="Replay of the projector's failures")
    table.add_column("messages read", justify="right")
    table.add_column("replayed and deleted", justify="right")
    table.add_column("kept", justify="right")
    table.add_column("streams caught up", justify="right")
    table.add_column("events applied", justify="right")
    table.add_row(
        str(len(summary.replayed)),
        str(len(summary.deleted)),
        str(len(summary.kept)),
        str(len(summary.streams)),
        str(summary.events_applied),
    )
    console.print(table)
    if not summary.replayed:
        console.print("The queue is empty: nothing to replay.")
        return 0
    if summary.kept:
        console.print(
            f"[red]{len(summary.kept)} message(s) kept on the queue, not replayed[/red]: fix what "
            "they name and run again"
        )
        return 1
    console.print(f"[green]All {len(summary.deleted)} message(s) replayed and deleted.[/green]")
    return 0
