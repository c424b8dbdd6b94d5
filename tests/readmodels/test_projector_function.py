"""The projector Lambda fed real DynamoDB stream records, captured from moto's event table."""

from __future__ import annotations

import importlib
import itertools
import json
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from infra.eventstore import DynamoDBEventStore, NewEvent, RecordedEvent
from infra.readmodels import VIEWS, DynamoDBReadModelStore, Target
from tests.readmodels.given import projected
from tests.readmodels.scenario import ROUND_3, ROUND_4, scenario, seed
from tests.readmodels.streams import StreamTap, sequence_numbers, versions
from tests.support.apigw import LambdaContext
from tests.support.aws import REGION
from tests.support.stack import FunctionsEnv

ROUND_3_STREAM, ROUND_4_STREAM = f"round-{ROUND_3}", f"round-{ROUND_4}"


@dataclass
class Pipeline:
    """The event store, its stream, the projector function and the read models it writes."""

    events: DynamoDBEventStore
    tap: StreamTap
    read_models: DynamoDBReadModelStore
    read_model_table: str

    def deliver(self, records: list[dict[str, Any]]) -> list[str]:
        """Invoke the function as Lambda would; returns the sequence numbers it reported failed."""
        app = importlib.import_module("functions.projector.app")
        response = app.handler(self.tap.lambda_event(records), LambdaContext())
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    def table(self) -> list[dict[str, Any]]:
        """Every item of the read-model table, sorted (to compare before and after)."""
        client = boto3.client("dynamodb", region_name=REGION)
        items = client.scan(TableName=self.read_model_table, ConsistentRead=True)["Items"]
        return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))

    def documents(self, view: str) -> list[tuple[Any, str]]:
        return sorted(self.read_models.items(Target(view, 1)))


@pytest.fixture
def pipeline(functions_env: FunctionsEnv) -> Pipeline:
    client = boto3.client("dynamodb", region_name=REGION)
    table = functions_env.tables["EventStoreTable"]
    read_model_table = functions_env.tables["ReadModelTable"]
    return Pipeline(
        DynamoDBEventStore(client, table),
        StreamTap(table),
        DynamoDBReadModelStore(client, read_model_table),
        read_model_table,
    )


def assert_projection_of(pipeline: Pipeline, events: list[RecordedEvent]) -> None:
    """The read models hold exactly what applying `events` in order gives."""
    expected = projected(events)
    for name in VIEWS:
        assert pipeline.documents(name) == sorted(expected.items(Target(name, 1))), name


def interleave(*streams: list[RecordedEvent]) -> list[RecordedEvent]:
    """The streams' events taken in turns, each stream still in its own order."""
    turns = itertools.zip_longest(*streams)
    return [event for turn in turns for event in turn if event is not None]


def test_a_batch_of_stream_records_projects_every_view(pipeline: Pipeline) -> None:
    # GIVEN every scenario event appended to the event store
    seed(pipeline.events, scenario().events)
    records = pipeline.tap.records()
    # WHEN their stream records reach the projector in one batch
    failed = pipeline.deliver(records)
    # THEN none failed, and every view holds the projection of the events
    assert failed == []
    assert len(records) == len(scenario().events)
    assert_projection_of(pipeline, list(scenario().events))


def test_the_streams_tip_records_in_a_batch_are_skipped(pipeline: Pipeline) -> None:
    # GIVEN every scenario event appended, with the tips' records (each append updates its
    # stream's tip) left among the events' records, as Lambda delivers them
    seed(pipeline.events, scenario().events)
    records = pipeline.tap.records(tips=True)
    tips = [r for r in records if r["dynamodb"]["Keys"]["version"] == {"N": "0"}]
    assert tips
    assert len(records) == len(scenario().events) + len(tips)
    # WHEN the batch reaches the projector
    failed = pipeline.deliver(records)
    # THEN none failed, and the views hold the projection of the events alone
    assert failed == []
    assert_projection_of(pipeline, list(scenario().events))


def test_a_batch_delivered_twice_changes_nothing_the_second_time(pipeline: Pipeline) -> None:
    # GIVEN round 4's records, delivered once
    seed(pipeline.events, scenario().stream(ROUND_4_STREAM))
    records = pipeline.tap.records()
    assert pipeline.deliver(records) == []
    before = pipeline.table()
    # WHEN Lambda delivers the same batch again
    failed = pipeline.deliver(records)
    # THEN it succeeds and not one read-model item changed
    assert failed == []
    assert pipeline.table() == before


def test_records_ahead_of_their_stream_wait_then_apply_after_the_earlier_ones(
    pipeline: Pipeline,
) -> None:
    # GIVEN round 4's records, split where a later batch would overtake an earlier one
    seed(pipeline.events, scenario().stream(ROUND_4_STREAM))
    records = pipeline.tap.records()
    earlier, later = records[:8], records[8:]
    # WHEN the later records come first
    failed = pipeline.deliver(later)
    # THEN every one of them waits (reported failed, nothing written)
    assert failed == sequence_numbers(later)
    assert pipeline.table() == []
    # WHEN the earlier batch comes, then the later one is retried
    assert pipeline.deliver(earlier) == []
    assert pipeline.deliver(later) == []
    # THEN the read models are those of the whole stream in order
    assert_projection_of(pipeline, scenario().stream(ROUND_4_STREAM))


def test_interleaved_streams_are_each_applied_in_their_own_order(pipeline: Pipeline) -> None:
    # GIVEN two rounds appended in turns, one event at a time, and a refusal stream
    mixed = interleave(scenario().stream(ROUND_3_STREAM), scenario().stream(ROUND_4_STREAM))
    for event in mixed:
        pipeline.events.append(
            event.stream_id, event.version - 1, [NewEvent(event.event, event.metadata)]
        )
    records = pipeline.tap.records()
    assert len({stream for stream, _ in versions(records[:4])}) == 2
    # WHEN the interleaved records are delivered in two batches
    assert pipeline.deliver(records[:30]) == []
    assert pipeline.deliver(records[30:]) == []
    # THEN each round is projected as if alone
    assert_projection_of(pipeline, mixed)


def test_a_gap_in_one_stream_does_not_hold_back_another(pipeline: Pipeline) -> None:
    # GIVEN round 4's first events and round 3's, interleaved
    mixed = interleave(scenario().stream(ROUND_4_STREAM)[:4], scenario().stream(ROUND_3_STREAM)[:4])
    for event in mixed:
        pipeline.events.append(
            event.stream_id, event.version - 1, [NewEvent(event.event, event.metadata)]
        )
    records = pipeline.tap.records()
    # WHEN a batch lacks round 4's first record
    round_4_first = next(r for r in records if versions([r]) == [(ROUND_4_STREAM, 1)])
    batch = [r for r in records if r is not round_4_first]
    failed = pipeline.deliver(batch)
    # THEN round 4's records wait, and round 3's are applied
    assert failed == sequence_numbers([r for r in batch if versions([r])[0][0] == ROUND_4_STREAM])
    assert_projection_of(pipeline, scenario().stream(ROUND_3_STREAM)[:4])


def test_a_record_that_fails_holds_back_the_later_records_of_its_stream_only(
    pipeline: Pipeline, functions_env: FunctionsEnv, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN round 4's first two events, a record no code can decode as its third, then more
    round_4 = scenario().stream(ROUND_4_STREAM)
    round_3 = scenario().stream(ROUND_3_STREAM)
    seed(pipeline.events, round_4[:2])
    seed(pipeline.events, round_3[:2])
    client = boto3.client("dynamodb", region_name=REGION)
    poison = {
        "stream_id": {"S": ROUND_4_STREAM},
        "version": {"N": "3"},
        "type": {"S": "AgencyTeleported"},
        "schema_version": {"N": "1"},
        "payload": {"S": json.dumps({"type": "AgencyTeleported"})},
        **{name: {"S": "x"} for name in ("event_id", "correlation_id", "causation_id", "actor")},
        **{name: {"S": "2016-01-01T00:00:00.000000Z"} for name in ("occurred_at", "recorded_at")},
    }
    table = functions_env.tables["EventStoreTable"]
    client.transact_write_items(  # as the store appends it: the event and its stream's tip
        TransactItems=[
            {"Put": {"TableName": table, "Item": poison}},
            {
                "Update": {
                    "TableName": table,
                    "Key": {"stream_id": {"S": ROUND_4_STREAM}, "version": {"N": "0"}},
                    "UpdateExpression": "SET head = :three",
                    "ExpressionAttributeValues": {":three": {"N": "3"}},
                }
            },
        ]
    )
    seed(pipeline.events, round_4[3:5])
    seed(pipeline.events, round_3[2:4])
    records = pipeline.tap.records()
    # WHEN the batch is delivered
    failed = pipeline.deliver(records)
    # THEN the poison record and the later records of its stream are reported failed
    round_4_records = [r for r in records if versions([r])[0][0] == ROUND_4_STREAM]
    assert failed == sequence_numbers(round_4_records[2:])
    # AND round 4 stays at version 2 in every view, while round 3 flowed on
    checkpoints = pipeline.read_models.checkpoints(ROUND_4_STREAM)
    assert {cp.version for cp in checkpoints.values()} == {2}
    assert_projection_of(pipeline, round_4[:2] + round_3[:4])
    # AND the log names the stream, version and error, and nothing of any payload
    (failure,) = [r for r in caplog.records if r.getMessage() == "projection failed"]
    facts = vars(failure)
    assert (facts["stream_id"], facts["version"], facts["cause"]) == (
        ROUND_4_STREAM,
        "3",
        "UnknownEventTypeError",
    )
    logged = json.dumps([vars(record) for record in caplog.records], default=str)
    assert "AgencyTeleported" not in logged
    assert "Skatteverket" not in logged


def test_a_record_that_is_not_an_insert_is_skipped(
    pipeline: Pipeline, functions_env: FunctionsEnv
) -> None:
    # GIVEN an event item overwritten in place (never done by the store: a MODIFY record)
    seed(pipeline.events, scenario().stream(ROUND_4_STREAM)[:1])
    client = boto3.client("dynamodb", region_name=REGION)
    table = functions_env.tables["EventStoreTable"]
    key = {"stream_id": {"S": ROUND_4_STREAM}, "version": {"N": "1"}}
    item = client.get_item(TableName=table, Key=key)["Item"]
    client.put_item(TableName=table, Item=item)
    records = pipeline.tap.records()
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
    # WHEN both are delivered
    failed = pipeline.deliver(records)
    # THEN the insert is projected once and the modification ignored
    assert failed == []
    assert_projection_of(pipeline, scenario().stream(ROUND_4_STREAM)[:1])
