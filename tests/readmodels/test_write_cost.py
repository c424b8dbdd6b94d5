"""What the projector writes to DynamoDB per event, priced as on-demand capacity bills it.

A transactional write costs 2 write request units per started kilobyte of each item, of the
item as it is after the write or before it, whichever is larger. An event is one transaction:
the stream's one checkpoint item (every view's version; the round views' common state once,
packed) and the documents the event changed, large ones packed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from infra.readmodels import VIEWS, DynamoDBReadModelStore, Projector
from tests.readmodels.scenario import scenario

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
    _sizes: dict[tuple[str, str], int] = field(default_factory=dict)

    def attach(self, client: DynamoDBClient) -> None:
        client.meta.events.register(
            "before-parameter-build.dynamodb.TransactWriteItems", self._priced
        )

    def _priced(self, params: dict[str, Any], **_: Any) -> None:
        units = 0
        for action in params["TransactItems"]:
            ((kind, spec),) = action.items()
            item = spec.get("Item") or spec["Key"]
            key = (item["pk"]["S"], item["sk"]["S"])
            size = item_size(spec["Item"]) if kind == "Put" else 0
            units += 2 * max(1, math.ceil(max(size, self._sizes.get(key, 0)) / KB))
            self._sizes[key] = size
            if key[0].startswith("cp#"):
                self.checkpoint_sizes.append(size)
        self.transactions.append((len(params["TransactItems"]), units))


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
    # AND an event wrote 6 items and 12 units on average, where a checkpoint per view with
    # its state took 11.6 items and 33 units
    items = sum(items for items, _ in meter.transactions) / len(events)
    units = sum(units for _, units in meter.transactions) / len(events)
    assert items <= 6.0, items
    assert units <= 12.0, units
