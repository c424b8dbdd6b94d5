"""The system under faults — its tables, its stream, the projector — and the exactly-once check.

`assert_exactly_once` is the one verdict every fault test ends with:
- the event store holds each stream as versions 1..n with no event id twice;
- every view's documents, and every stream's checkpoint (version *and* the view's state for
  it), equal a from-scratch projection of the store: the production rebuild (`Rebuilder`)
  replaying the event store into a fresh in-memory store. An event applied twice, or lost,
  shows in a document or a state; a stream left behind shows in its checkpoint.
"""

from __future__ import annotations

import importlib
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import boto3

from infra.eventstore import DynamoDBEventStore, RecordedEvent
from infra.eventstore.dynamodb import is_tip, recorded_event_from_item
from infra.readmodels import VIEWS, DynamoDBReadModelStore, InMemoryReadModelStore, Target
from infra.readmodels.rebuild import DynamoDBStreamSource, Rebuilder
from tests.readmodels.scenario import ROUND_3, scenario
from tests.readmodels.streams import StreamTap
from tests.support.apigw import LambdaContext
from tests.support.aws import REGION

Item = dict[str, Any]


def some_events() -> list[RecordedEvent]:
    """The read-model scenario — round 4 with every twist, a refusal, an erasure — and the
    start of round 3, in the order appended: enough for every view, small enough to redo."""
    return [r for r in scenario().events if r.stream_id != f"round-{ROUND_3}" or r.version <= 12]


class LambdaDied(BaseException):
    """The function's process ended here (timeout, out of memory, the host lost): nothing
    after this point runs, no `except Exception` sees it, no answer is sent."""


@dataclass
class System:
    tables: dict[str, str]
    client: Any = field(init=False)
    events: DynamoDBEventStore = field(init=False)
    read_models: DynamoDBReadModelStore = field(init=False)
    source: DynamoDBStreamSource = field(init=False)
    tap: StreamTap = field(init=False)

    def __post_init__(self) -> None:
        self.client = boto3.client("dynamodb", region_name=REGION)
        self.events = DynamoDBEventStore(self.client, self.events_table)
        self.read_models = DynamoDBReadModelStore(
            self.client, self.read_model_table, pointer_max_age=0
        )
        self.source = DynamoDBStreamSource(self.client, self.events_table)
        self.tap = StreamTap(self.events_table)

    @property
    def events_table(self) -> str:
        return self.tables["EventStoreTable"]

    @property
    def read_model_table(self) -> str:
        return self.tables["ReadModelTable"]

    @property
    def idempotency_table(self) -> str:
        return self.tables["IdempotencyTable"]

    # -- the projector ------------------------------------------------------------------

    def deliver(self, records: list[Item]) -> list[str]:
        """Invoke the projector function as Lambda would; the sequence numbers it failed."""
        app = importlib.import_module("functions.projector.app")
        response = app.handler(self.tap.lambda_event(records), LambdaContext())
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    def project(self) -> list[Item]:
        """Deliver every stream record written since the last call; they must all apply."""
        records = self.tap.records()
        if records:
            assert self.deliver(records) == []
        return records

    # -- what is stored -----------------------------------------------------------------

    def event_items(self) -> list[Item]:
        """Every event item of the event store (not the streams' tips), as stored, in stream
        and version order."""
        return sorted(
            (item for item in _scan(self.client, self.events_table) if not is_tip(item)),
            key=lambda item: (item["stream_id"]["S"], int(item["version"]["N"])),
        )

    def recorded(self) -> list[RecordedEvent]:
        return [recorded_event_from_item(item) for item in self.event_items()]

    def types(self, stream_id: str) -> list[str]:
        return [r.event.type for r in self.recorded() if r.stream_id == stream_id]

    def with_delivery(self, delivery_id: str) -> list[RecordedEvent]:
        """Events recorded for one webhook delivery (applications and refusals carry its id)."""
        return [r for r in self.recorded() if getattr(r.event, "delivery_id", None) == delivery_id]

    def read_model_items(self) -> list[Item]:
        """Every item of the read-model table (documents and checkpoints), sorted."""
        items = _scan(self.client, self.read_model_table)
        return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))

    def idempotency_items(self) -> list[Item]:
        return _scan(self.client, self.idempotency_table)

    def expire_in_progress(self) -> None:
        """Let every in-progress idempotency record's lease run out (as 30 s later)."""
        past = str(int(time.time() * 1000) - 1)
        for item in self.idempotency_items():
            self.client.update_item(
                TableName=self.idempotency_table,
                Key={"id": item["id"]},
                UpdateExpression="SET in_progress_expiration = :past",
                # a record without a lease would never run out: that must fail the test
                ConditionExpression="attribute_exists(in_progress_expiration)",
                ExpressionAttributeValues={":past": {"N": past}},
            )


def _scan(client: Any, table: str) -> list[Item]:
    items: list[Item] = []
    request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    while True:
        page = client.scan(**request)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def from_scratch(system: System) -> InMemoryReadModelStore:
    """Every view rebuilt from the event store by the production rebuild, in memory."""
    fresh = InMemoryReadModelStore()
    rebuilder = Rebuilder(list(VIEWS.values()), fresh, system.source)
    started = rebuilder.start()
    rebuilder.replay(started.generations)
    rebuilder.switch(started.generations)
    return fresh


def assert_exactly_once(system: System) -> None:
    """Each event stored once, and applied once to every view: see the module's docstring."""
    recorded = system.recorded()
    ids = Counter(r.metadata.event_id for r in recorded)
    assert [i for i, n in ids.items() if n > 1] == [], "an event id stored twice"
    by_stream: dict[str, list[int]] = {}
    for r in recorded:
        by_stream.setdefault(r.stream_id, []).append(r.version)
    for stream_id, versions in by_stream.items():
        assert versions == list(range(1, len(versions) + 1)), stream_id

    expected = from_scratch(system)
    for name in VIEWS:
        ours = Target(name, system.read_models.active_generation(name))
        theirs = Target(name, expected.active_generation(name))
        assert sorted(system.read_models.items(ours)) == sorted(expected.items(theirs)), name
        for stream_id in by_stream:
            have = system.read_models.checkpoints(stream_id).get(ours)
            want = expected.checkpoints(stream_id).get(theirs)
            assert have == want, f"{name}: checkpoint of {stream_id}"
