"""The stream pump delivers the event store's stream as Lambda's event source mapping does."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from programme.stack.streams import Consumer, StreamPump, matches, stream_mappings
from programme.template import load_template

ARN = "arn:aws:dynamodb:eu-north-1:123456789012:table/EventStoreTable/stream/2026"


def record(n: int, event_type: str = "AgencyApplied", name: str = "INSERT") -> dict[str, Any]:
    image = {
        "stream_id": {"S": "round-2015-3"},
        "version": {"N": str(n)},
        "type": {"S": event_type},
    }
    return {"eventName": name, "dynamodb": {"SequenceNumber": f"{n:021d}", "NewImage": image}}


class FakeStreams:
    """One shard whose records are handed out once, as `GetRecords` does."""

    def __init__(self, records: Sequence[dict[str, Any]] = ()) -> None:
        self.records = list(records)
        self.read = 0

    def describe_stream(self, StreamArn: str) -> dict[str, Any]:
        return {"StreamDescription": {"Shards": [{"ShardId": "shard-1"}]}}

    def get_shard_iterator(self, **_: Any) -> dict[str, Any]:
        return {"ShardIterator": "it"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        page = self.records[self.read : self.read + Limit]
        self.read += len(page)
        return {"Records": page, "NextShardIterator": "it"}


class Recorder:
    """A consumer's handler: records its batches, fails the records `fail` says."""

    def __init__(self, fail: Callable[[str], bool] = lambda _: False, raises: bool = False) -> None:
        self.batches: list[list[str]] = []
        self.fail = fail
        self.raises = raises

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        sequence = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
        self.batches.append(sequence)
        if self.raises and len(sequence) > 1:
            raise RuntimeError("the function crashed")
        failed = [n for n in sequence if self.fail(n)]
        return {"batchItemFailures": [{"itemIdentifier": n} for n in failed[:1]]}


def pump_for(streams: FakeStreams, *consumers: Consumer) -> tuple[StreamPump, list[Any]]:
    failures: list[Any] = []
    pump = StreamPump(streams, ARN, consumers, lambda c, rs: failures.append((c.name, rs)))  # type: ignore[arg-type]
    return pump, failures


def test_records_are_delivered_in_order_in_batches_in_lambdas_shape() -> None:
    # GIVEN five records and a consumer taking batches of two
    streams = FakeStreams([record(n) for n in range(1, 6)])
    handler = Recorder()
    pump, _ = pump_for(streams, Consumer("Projector", handler, batch_size=2))

    # WHEN the pump runs
    pending = pump.pump()

    # THEN every record was delivered once, in order, two at a time
    assert pending == 0
    assert [len(batch) for batch in handler.batches] == [2, 2, 1]
    assert [n for batch in handler.batches for n in batch] == [f"{n:021d}" for n in range(1, 6)]


def test_a_partial_failure_resumes_from_the_first_failed_record() -> None:
    # GIVEN a consumer that fails record 3 once
    failed_once: set[str] = set()

    def fail(n: str) -> bool:
        if n == f"{3:021d}" and n not in failed_once:
            failed_once.add(n)
            return True
        return False

    handler = Recorder(fail)
    pump, failures = pump_for(FakeStreams([record(n) for n in range(1, 5)]), Consumer("P", handler))

    # WHEN the pump runs twice
    first = pump.pump()
    pump.pump()

    # THEN the retry starts at record 3: records 1 and 2 are not delivered again
    assert first == 2
    assert handler.batches == [[f"{n:021d}" for n in (1, 2, 3, 4)], [f"{n:021d}" for n in (3, 4)]]
    assert failures == []


def test_a_record_failing_past_the_retries_goes_to_the_on_failure_destination() -> None:
    # GIVEN a consumer for which record 2 always fails, retried twice
    handler = Recorder(lambda n: n == f"{2:021d}")
    consumer = Consumer("Projector", handler, max_retries=2, on_failure="ProjectorFailureQueue")
    pump, failures = pump_for(FakeStreams([record(1), record(2), record(3)]), consumer)

    # WHEN the pump runs until nothing is pending
    while pump.pump():
        pass

    # THEN record 2 went to the on-failure destination after three attempts; 3 was delivered
    assert [(name, [r["dynamodb"]["SequenceNumber"] for r in rs]) for name, rs in failures] == [
        ("Projector", [f"{2:021d}"])
    ]
    assert sum(f"{2:021d}" in batch for batch in handler.batches) == 3
    assert handler.batches[-1] == [f"{3:021d}"]


def test_a_batch_whose_function_raises_is_bisected() -> None:
    # GIVEN a consumer whose function crashes on any batch of more than one record
    handler = Recorder(raises=True)
    pump, failures = pump_for(
        FakeStreams([record(n) for n in range(1, 5)]), Consumer("P", handler, bisect=True)
    )

    # WHEN the pump runs until nothing is pending
    while pump.pump():
        pass

    # THEN the batch was halved until it went through, and nothing was given up
    assert [len(batch) for batch in handler.batches] == [4, 2, 1, 1, 1, 1]
    assert failures == []


def test_a_filtered_consumer_gets_only_the_records_its_filter_lets_through() -> None:
    # GIVEN the template's mappings on the event store's stream
    mappings = {m.function: m for m in stream_mappings(load_template(), "EventStoreTable")}
    starter = Recorder()
    projector = Recorder()
    streams = FakeStreams(
        [
            record(1, "RoundScheduled"),
            record(2),
            record(3, "RoundScheduled", "MODIFY"),
            record(4, "RoundRescheduled"),
            record(5, "ApplicationsOpened"),
            record(6, "RoundCancelled"),
        ]
    )
    pump, _ = pump_for(
        streams,
        Consumer.of(mappings["LifecycleStarterFunction"], starter),
        Consumer.of(mappings["ProjectorFunction"], projector),
    )

    # WHEN the pump runs
    pump.pump()

    # THEN the starter saw only the inserts that set or end a round's schedule; the projector
    # saw everything
    assert starter.batches == [[f"{n:021d}" for n in (1, 4, 6)]]
    assert projector.batches == [[f"{n:021d}" for n in range(1, 7)]]


def test_the_mappings_are_read_from_the_template() -> None:
    mappings = {m.function: m for m in stream_mappings(load_template(), "EventStoreTable")}
    assert set(mappings) == {"ProjectorFunction", "LifecycleStarterFunction"}
    projector = mappings["ProjectorFunction"]
    assert (projector.batch_size, projector.max_retries, projector.bisect) == (100, 10, True)
    assert projector.on_failure == "ProjectorFailureQueue"
    assert mappings["LifecycleStarterFunction"].on_failure == "LifecycleFailureQueue"


def test_a_filter_matches_exact_values_only_where_every_key_is_present() -> None:
    pattern = {"eventName": ["INSERT"], "dynamodb": {"NewImage": {"type": {"S": ["A", "B"]}}}}
    assert matches(pattern, record(1, "B"))
    assert not matches(pattern, record(1, "C"))
    assert not matches(pattern, {"eventName": "INSERT"})
