"""Fault 6: a poison event — one a view cannot apply — and its replay after the fix.

The stream is fed to the real projector by the local stack's `StreamPump`, with the mapping
of `template.yaml` (partial batch failures, bisect, 10 retries, the on-failure queue): the
poison and the later records of its stream go to the on-failure queue, each after its
retries, while the other streams keep flowing. Once the view is fixed,
`programme replay-failures` catches the affected streams up from the event store and empties
the queue; run again, it changes nothing.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from rich.console import Console

from infra.eventstore import RecordedEvent
from infra.readmodels import VIEWS, Target
from infra.readmodels.documents import JsonObject
from infra.readmodels.failure_queue import SqsFailureQueue
from infra.readmodels.replay import Replayer
from infra.readmodels.stream_records import DynamoDBStreamRecords
from infra.readmodels.view import Applied
from infra.readmodels.views.plans import PlansView
from programme.cli import main
from programme.replay import run_replay
from programme.stack.destinations import FailureQueues
from programme.stack.streams import Consumer, StreamPump, stream_mappings
from programme.template import load_template
from tests.faults.system import System, assert_exactly_once
from tests.faults.wire import ALWAYS, Wire
from tests.readmodels.scenario import ROUND_3, ROUND_4, scenario, seed
from tests.support.aws import REGION

ROUND_3_STREAM, ROUND_4_STREAM = f"round-{ROUND_3}", f"round-{ROUND_4}"
POISON_VERSION = 20  # of round 4's 21 events: 20 and 21 cannot reach the plans view
QUEUE = "ProjectorFailureQueue"


@dataclass
class Pipeline:
    """The event store's stream pumped into the projector, failures into the queue."""

    system: System
    pump: StreamPump
    sqs: Any
    queue_url: str

    def drain(self) -> int:
        """Pump until nothing is pending; returns how many times it pumped."""
        pumps = 1
        while self.pump.pump():
            pumps += 1
            assert pumps < 100, "the stream never drained"
        return pumps

    def messages(self) -> list[dict[str, Any]]:
        """The queue's messages (bodies), left on it."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url, MaxNumberOfMessages=10, VisibilityTimeout=0
        )
        return [json.loads(m["Body"]) for m in response.get("Messages", [])]

    def queued(self) -> int:
        """Messages on the queue, visible or held."""
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(value) for value in attributes.values())

    def replayer(self) -> Replayer:
        streams = boto3.client("dynamodbstreams", region_name=REGION)
        return Replayer(
            VIEWS.values(),
            self.system.read_models,
            self.system.source,
            DynamoDBStreamRecords(streams, max_empty_pages=1),
        )

    def replay(self) -> tuple[int, str]:
        """`run_replay` on this queue: its exit code and what it printed."""
        console = Console(record=True, width=200, force_terminal=False)
        queue = SqsFailureQueue(self.sqs, self.queue_url, wait_seconds=0)
        code = run_replay(self.replayer(), queue, console=console)
        return code, console.export_text()

    def checkpoint(self, view: str, stream_id: str) -> int:
        found = self.system.read_models.checkpoints(stream_id).get(Target(view, 1))
        return found.version if found else 0


@pytest.fixture
def pipeline(system: System) -> Pipeline:
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    stream_arn = dynamodb.describe_table(TableName=system.events_table)["Table"]["LatestStreamArn"]
    sqs = boto3.client("sqs", region_name=REGION)
    queue_url = sqs.create_queue(QueueName=QUEUE)["QueueUrl"]
    (mapping,) = [
        m
        for m in stream_mappings(load_template(), "EventStoreTable")
        if m.function == "ProjectorFunction"
    ]
    handler = importlib.import_module("functions.projector.app").handler
    pump = StreamPump(
        boto3.client("dynamodbstreams", region_name=REGION),
        stream_arn,
        [Consumer.of(mapping, handler)],
        FailureQueues(sqs, {QUEUE: queue_url}).records_failed,
    )
    assert (mapping.max_retries, mapping.on_failure) == (10, QUEUE)
    return Pipeline(system, pump, sqs, queue_url)


@dataclass
class Poison:
    """The plans view raising on round 4's event 20, until `fix()`."""

    refused: list[int]
    patch: pytest.MonkeyPatch

    def fix(self) -> None:
        self.patch.undo()


@pytest.fixture
def poison() -> Iterator[Poison]:
    poison = Poison([], pytest.MonkeyPatch())
    apply = PlansView.apply

    def broken(view: PlansView, state: JsonObject | None, recorded: RecordedEvent) -> Applied:
        if (recorded.stream_id, recorded.version) == (ROUND_4_STREAM, POISON_VERSION):
            poison.refused.append(recorded.version)
            raise ValueError("the plans view cannot apply this event")
        return apply(view, state, recorded)

    poison.patch.setattr(PlansView, "apply", broken)
    yield poison
    poison.fix()


def poison_the_projector(pipeline: Pipeline) -> None:
    """Round 4 and part of round 3 pumped through a projector whose plans view is broken."""
    round_3, round_4 = scenario().stream(ROUND_3_STREAM), scenario().stream(ROUND_4_STREAM)
    seed(pipeline.system.events, round_3[:16])
    seed(pipeline.system.events, round_4)
    seed(pipeline.system.events, round_3[16:18])

    # the first delivery: the other views apply the poison, the plans view stops short of
    # it, the record after it waits; the records of round 3 after them are applied
    pipeline.pump.pump()
    assert pipeline.checkpoint("plans", ROUND_4_STREAM) == POISON_VERSION - 1
    assert pipeline.checkpoint("rounds", ROUND_4_STREAM) == POISON_VERSION
    assert pipeline.checkpoint("plans", ROUND_3_STREAM) == 18

    # round 3 goes on while round 4's records are retried, then given up on one by one
    seed(pipeline.system.events, round_3[18:20])
    pipeline.pump.pump()
    assert pipeline.checkpoint("plans", ROUND_3_STREAM) == 20
    pumps = pipeline.drain()
    # Each of the two records is delivered once and retried 10 times: 22 deliveries. The
    # poison's first two were the pumps above; the pump that gives up on it also delivers the
    # next record for the first time, and the pump that gives up on that one leaves nothing.
    assert pumps == 2 * (1 + 10) - 2 - 1
    assert pipeline.checkpoint("plans", ROUND_3_STREAM) == 20
    assert pipeline.checkpoint("plans", ROUND_4_STREAM) == POISON_VERSION - 1
    assert pipeline.checkpoint("rounds", ROUND_4_STREAM) == len(round_4)


def test_a_poison_event_goes_to_the_queue_and_is_replayed_after_the_fix(
    pipeline: Pipeline, poison: Poison, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the plans view broken on round 4's event 20, and the stream pumped dry
    poison_the_projector(pipeline)
    assert len(poison.refused) == 11  # one delivery and ten retries, then given up

    # THEN the queue holds one message per record given up on, in AWS's documented shape
    messages = pipeline.messages()
    assert len(messages) == 2
    records = {
        r["dynamodb"]["SequenceNumber"]: r
        for r in pipeline.system.tap.records()
        if r["dynamodb"]["NewImage"]["stream_id"]["S"] == ROUND_4_STREAM
    }
    for message in messages:
        assert message["version"] == "1.0"
        assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert message["requestContext"]["approximateInvokeCount"] == 11
        info = message["DDBStreamBatchInfo"]
        assert set(info) == {
            "shardId",
            "startSequenceNumber",
            "endSequenceNumber",
            "approximateArrivalOfFirstRecord",
            "approximateArrivalOfLastRecord",
            "batchSize",
            "streamArn",
        }
        assert info["startSequenceNumber"] == info["endSequenceNumber"]
        assert info["startSequenceNumber"] in records
        assert info["shardId"].startswith("shardId-")

    # WHEN the failures are replayed before the view is fixed
    code, printed = pipeline.replay()

    # THEN nothing is called done: both messages are kept, the read models as they were
    assert code == 1
    assert "2 message(s) kept" in printed
    assert f"{ROUND_4_STREAM} v{POISON_VERSION}: view plans failed (ValueError)" in printed
    assert pipeline.queued() == 2
    assert pipeline.checkpoint("plans", ROUND_4_STREAM) == POISON_VERSION - 1

    # WHEN the view is fixed and `programme replay-failures` runs
    poison.fix()
    capsys.readouterr()
    code = main(["replay-failures", "--queue-url", pipeline.queue_url, "--wait", "0"])
    printed = capsys.readouterr().out

    # THEN both messages were replayed from the store, the queue is empty, and every view
    # holds each event exactly once
    assert code == 0
    assert "All 2 message(s) replayed and deleted" in printed
    assert f"{ROUND_4_STREAM} (by stream records)" in printed
    assert pipeline.queued() == 0
    assert_exactly_once(pipeline.system)
    replayed = pipeline.system.read_model_items()

    # WHEN it runs again, and when the same two messages arrive again (a duplicate send; one
    # without its shard, as the local stack sent them before)
    again = main(["replay-failures", "--queue-url", pipeline.queue_url, "--wait", "0"])
    del messages[1]["DDBStreamBatchInfo"]["shardId"]
    for message in messages:
        pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody=json.dumps(message))
    code, printed = pipeline.replay()

    # THEN nothing changes: the repeats are deleted, no event is applied again
    assert again == 0
    assert "The queue is empty" in capsys.readouterr().out
    assert code == 0
    assert printed.count(f"{ROUND_4_STREAM} (by stream records), 0 events applied") == 2
    assert pipeline.queued() == 0
    assert pipeline.system.read_model_items() == replayed


def test_after_the_stream_records_expired_the_lagging_streams_are_caught_up(
    pipeline: Pipeline, poison: Poison, wire: Wire
) -> None:
    # GIVEN the poison on the queue, the view fixed, and the stream records gone (24 h later)
    poison_the_projector(pipeline)
    poison.fix()
    wire.inject(
        "GetShardIterator", None, "throttled", code="TrimmedDataAccessException", times=ALWAYS
    )

    # WHEN the failures are replayed
    code, printed = pipeline.replay()

    # THEN the streams the read models lag behind were found from the checkpoints and caught
    # up: round 4 (round 3 was never behind)
    assert code == 0, printed
    assert "by lagging checkpoints" in printed
    assert ROUND_3_STREAM not in printed
    assert pipeline.queued() == 0
    assert_exactly_once(pipeline.system)


def test_a_message_that_is_not_an_on_failure_record_is_kept(pipeline: Pipeline) -> None:
    # GIVEN a message on the queue that is not Lambda's
    pipeline.sqs.send_message(QueueUrl=pipeline.queue_url, MessageBody='{"hello": "world"}')

    # WHEN the failures are replayed
    code, printed = pipeline.replay()

    # THEN it is kept, named, and the run says it did not drain the queue
    assert code == 1
    assert "not a DynamoDB stream on-failure record (KeyError)" in printed
    assert pipeline.queued() == 1
