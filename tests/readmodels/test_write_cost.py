"""What the projector writes to DynamoDB per event, priced as on-demand capacity bills it.

A transactional write costs 2 write request units per started kilobyte of each item, of the
item as it is after the write or before it, whichever is larger. An event is one transaction:
the stream's one checkpoint item (every view's version; the round views' common state once,
packed, or of a large round its header, the agencies and pairs the event changed each an
item beside it) and the documents the event changed, large ones packed. What an event writes
does not grow with its round (bench/projection_cost.py measures it at 100 to 1,600 events).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infra.readmodels import VIEWS, DynamoDBReadModelStore, Projector
from tests.readmodels.scenario import large_round, scenario

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

KB = 1024


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes of an item of strings, numbers and binaries: names and values (numbers roughly)."""
    size = 0
    for name, value in item.items():
        ((kind, raw),) = value.items()
        size += len(name.encode()) + (len(raw) if kind == "B" else len(str(raw).encode()))
    return size


@dataclass
class WriteMeter:
    """Every TransactWriteItems made through a client: its items and write request units."""

    transactions: list[tuple[int, int]] = field(default_factory=list)  # (items, units)
    checkpoint_sizes: list[int] = field(default_factory=list)
    written: list[int] = field(default_factory=list)
    """Bytes of the items each transaction put."""
    _sizes: dict[tuple[str, str], int] = field(default_factory=dict)

    def attach(self, client: DynamoDBClient) -> None:
        client.meta.events.register(
            "before-parameter-build.dynamodb.TransactWriteItems", self._priced
        )

    def _priced(self, params: dict[str, Any], **_: Any) -> None:
        units = written = 0
        for action in params["TransactItems"]:
            ((kind, spec),) = action.items()
            item = spec.get("Item") or spec["Key"]
            key = (item["pk"]["S"], item["sk"]["S"])
            size = item_size(spec["Item"]) if kind == "Put" else 0
            written += size
            units += 2 * max(1, math.ceil(max(size, self._sizes.get(key, 0)) / KB))
            self._sizes[key] = size
            if key[0].startswith("cp#"):
                self.checkpoint_sizes.append(size)
        self.transactions.append((len(params["TransactItems"]), units))
        self.written.append(written)


def test_the_projector_writes_an_event_as_one_transaction_of_a_few_small_items(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN the projector on DynamoDB, every write it makes metered
    meter = WriteMeter()
    meter.attach(dynamodb_client)
    store = DynamoDBReadModelStore(dynamodb_client, template_tables["ReadModelTable"])
    projector = Projector(VIEWS.values(), store)
    targets = projector.targets()
    # WHEN the scenario's events are projected (round 3 of 2015, a round 4 with every twist,
    # a refusal, an erasure), one by one as stream records come
    events = scenario().events
    for event in events:
        projector.project(event, targets)
    # THEN each event was one transaction, its checkpoint one item of under a kilobyte
    assert len(meter.transactions) == len(events)
    assert len(meter.checkpoint_sizes) == len(events)
    assert max(meter.checkpoint_sizes) < KB
    # AND an event wrote 5.64 items and 11.28 units on average (6 and 12 when the round
    # documents held every pair; 11.6 items and 33 units with a checkpoint per view)
    items = sum(items for items, _ in meter.transactions) / len(events)
    units = sum(units for _, units in meter.transactions) / len(events)
    assert items <= 5.65, items
    assert units <= 11.3, units


def test_what_an_event_writes_does_not_grow_with_its_round(
    dynamodb_client: DynamoDBClient, template_tables: dict[str, str]
) -> None:
    # GIVEN a round of 21 agencies (97 events: a real round's size, its sheet kept whole in
    # the checkpoint item) and one of 40 (182 events, its sheet in parts), each metered
    table = template_tables["ReadModelTable"]
    tails = {}
    for agencies in (21, 40):
        meter = WriteMeter()
        meter.attach(dynamodb_client)
        projector = Projector(VIEWS.values(), DynamoDBReadModelStore(dynamodb_client, table))
        targets = projector.targets()
        # WHEN each is projected event by event
        events = large_round(f"2026-{agencies}", agencies)
        for event in events:
            projector.project(event, targets)
        assert len(meter.written) == len(events)
        tenth = len(events) // 10
        tails[agencies] = sum(meter.written[-tenth:]) / tenth
        dynamodb_client.meta.events.unregister(
            "before-parameter-build.dynamodb.TransactWriteItems", meter._priced
        )
    # THEN the last tenth of the large round's events wrote no more bytes each than the
    # small round's (2.8 KB against 3.0; with the round rewritten whole, 12.6 KB at 1,600)
    assert tails[40] <= tails[21], tails
