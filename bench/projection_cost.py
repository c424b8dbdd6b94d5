"""Projection cost per event as a round grows: bytes, write units and time of each event.

    .venv/bin/python bench/projection_cost.py [--events 100,400,1600]

For each size N, one round of about N events (applications from many agencies, decisions,
nominations, pairs, plans and their revisions, presentations, the scheduled transitions:
`tests/readmodels/scenario.py`'s `large_round`, its agencies scaled to the size: nine in
ten admitted up to a capacity of 200, the others rejected or waitlisted) is projected event
by event through the real `Projector` and every view onto `DynamoDBReadModelStore`, on a
read-model table of its own created under moto from `template.yaml` (and deleted after, so
the sizes do not slow each other's emulation). Every write the store makes is metered with
a botocore hook (`before-parameter-build.dynamodb.*`): the bytes of each item put (names
and values, as DynamoDB sizes an item), which item they go to (the stream's checkpoint
item, its state parts, or which view's documents), and the write request units, priced as
on-demand bills a transactional write (2 per started KB of the larger of the item before
and after; 1 outside a transaction); the read units of every request come from
`_common.DynamoMeter`. Beside them, the JSON texts the projector hands the store per event
(each target's state and the documents, before packing and sharing: what issue 13
counted). Figures per event: the mean over the round, and over its last 10 % of events
(where a round's growth shows). Times: milliseconds per event, and without the time spent
inside moto ("own"; moto copies its whole table for every transaction).

The target (issue 13): bytes written per projected event flat in the round's size, each
event writing what it changes: the last 10 %'s mean at the largest size at most 1.5 times
that at the smallest.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from _common import (
    REGION,
    UNITS_MODEL,
    DynamoMeter,
    console,
    emulated_aws,
    header,
    item_size,
    summarise,
    table,
    table_keys,
    timed,
)

from tests.readmodels.scenario import agencies_for, large_round

TARGET_RATIO = 1.5
KB = 1024


# Metering -------------------------------------------------------------------------------


def where(pk: str, sk: str) -> str:
    """Which item a write goes to: the checkpoint item, a state part, or a view's document."""
    if pk.startswith("cp#"):
        return "checkpoint item" if sk == "stream" else "checkpoint: state parts"
    view, _, partition = pk.split("#", 2)
    if view in ("rounds", "pairs", "plans") and partition.startswith("round#"):
        return f"{view}: {'pair' if sk.startswith('pair#') else 'round'} documents"
    return f"{view}: documents"


@dataclass
class ByteMeter:
    """The items every write request puts: bytes and transactional write units, by item."""

    sizes: dict[tuple[str, str], int] = field(default_factory=dict)
    bytes_to: dict[str, int] = field(default_factory=dict)
    written: int = 0
    units: int = 0
    items: int = 0

    def attach(self, client: Any) -> None:
        for operation in ("TransactWriteItems", "BatchWriteItem", "PutItem", "DeleteItem"):
            client.meta.events.register(
                f"before-parameter-build.dynamodb.{operation}", self._metered
            )

    def _metered(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        actions: list[tuple[str, Mapping[str, Any]]] = []
        per = 2  # units per KB: a transactional write
        if model.name == "TransactWriteItems":
            for action in params["TransactItems"]:
                ((kind, spec),) = action.items()
                if kind != "ConditionCheck":
                    actions.append((kind, spec.get("Item") or spec["Key"]))
        elif model.name == "BatchWriteItem":
            per = 1
            for writes in params["RequestItems"].values():
                for write in writes:
                    if "PutRequest" in write:
                        actions.append(("Put", write["PutRequest"]["Item"]))
                    else:
                        actions.append(("Delete", write["DeleteRequest"]["Key"]))
        else:
            per = 1
            actions.append(
                (
                    "Put" if model.name == "PutItem" else "Delete",
                    params.get("Item") or params["Key"],
                )
            )
        for kind, item in actions:
            key = (item["pk"]["S"], item["sk"]["S"])
            size = item_size(item) if kind == "Put" else 0
            self.units += per * max(1, math.ceil(max(size, self.sizes.get(key, 0)) / KB))
            self.sizes[key] = size
            self.items += 1
            self.written += size
            name = where(*key)
            self.bytes_to[name] = self.bytes_to.get(name, 0) + size


@dataclass
class Measured:
    """One round projected: per-event figures, and the bytes by item."""

    events: int
    agencies: int
    bytes_per_event: list[int]
    units_per_event: list[int]
    items_per_event: list[int]
    read_units: float
    ms: list[float]
    own_ms: list[float]
    bytes_to: dict[str, int]
    largest_item: int
    text_per_event: list[int]

    @property
    def total(self) -> int:
        return sum(self.bytes_per_event)

    def tail(self, values: list[int] | list[float]) -> float:
        """The mean of the last 10 % of events' values."""
        last = values[-max(1, len(values) // 10) :]
        return sum(last) / len(last)

    def mean(self, values: list[int] | list[float]) -> float:
        return sum(values) / len(values)


def measure(client: Any, meter: DynamoMeter, size: int) -> Measured:
    from infra.readmodels import VIEWS, DynamoDBReadModelStore, Projector
    from programme.template import dynamodb_tables, load_template

    spec = dict(dynamodb_tables(load_template())["ReadModelTable"])
    name = f"{spec['TableName']}-{size}"
    client.create_table(**{**spec, "TableName": name})
    meter.keys[name] = ("pk", "sk")
    agencies = agencies_for(size)
    events = large_round(f"2026-{size}", agencies)
    store = DynamoDBReadModelStore(client, name)
    projector = Projector(VIEWS.values(), store)
    targets = projector.targets()
    bytes_meter = ByteMeter()
    bytes_meter.attach(client)
    per_bytes: list[int] = []
    per_units: list[int] = []
    per_items: list[int] = []
    ms: list[float] = []
    own: list[float] = []
    texts = [0]
    commit = store.commit

    def counted(commits: Any) -> None:  # the texts handed to the store (what issue 13 counted)
        texts[0] += sum(c.byte_size() for c in commits)
        commit(commits)

    store.commit = counted  # type: ignore[method-assign]
    per_text: list[int] = []
    mark = meter.mark()
    for event in events:
        written, units, items = bytes_meter.written, bytes_meter.units, bytes_meter.items
        handed = texts[0]
        with timed() as took:
            projector.project(event, targets)
        per_text.append(texts[0] - handed)
        per_bytes.append(bytes_meter.written - written)
        per_units.append(bytes_meter.units - units)
        per_items.append(bytes_meter.items - items)
        ms.append(took.seconds * 1000)
        own.append(took.own * 1000)
    read_units = summarise(meter.since(mark))["rru"]
    largest = max(bytes_meter.sizes.values())
    for operation in ("TransactWriteItems", "BatchWriteItem", "PutItem", "DeleteItem"):
        client.meta.events.unregister(
            f"before-parameter-build.dynamodb.{operation}", bytes_meter._metered
        )
    client.delete_table(TableName=name)
    return Measured(
        len(events),
        agencies,
        per_bytes,
        per_units,
        per_items,
        read_units,
        ms,
        own,
        bytes_meter.bytes_to,
        largest,
        per_text,
    )


def kb(value: float) -> str:
    return f"{value / KB:,.1f}"


def report(runs: list[Measured], wall: float) -> bool:
    out = console()
    figures = table(
        "One round projected event by event (every view, DynamoDBReadModelStore under moto)",
        ("events", "agencies", "KB/ev", "last 10%", "WRU/ev", "last 10%", "items/ev", "RRU/ev",
         "ms/ev", "own ms", "MB", "max item KB", "text KB/ev", "last 10%", "text MB"),
        caption="KB/ev: bytes of the items put per event (names + values); last 10 %: the "
        "mean of the round's last tenth of events; own: without time inside moto; text: the JSON "
        "texts the projector hands the store per event (documents, and each target's state), "
        "before packing",
    )  # fmt: skip
    for run in runs:
        figures.add_row(
            f"{run.events:,}",
            f"{run.agencies:,}",
            kb(run.mean(run.bytes_per_event)),
            kb(run.tail(run.bytes_per_event)),
            f"{run.mean(run.units_per_event):.1f}",
            f"{run.tail(run.units_per_event):.1f}",
            f"{run.mean(run.items_per_event):.1f}",
            f"{run.read_units / run.events:.1f}",
            f"{run.mean(run.ms):.1f}",
            f"{run.mean(run.own_ms):.1f}",
            f"{run.total / KB / KB:,.2f}",
            kb(run.largest_item),
            kb(run.mean(run.text_per_event)),
            kb(run.tail(run.text_per_event)),
            f"{sum(run.text_per_event) / KB / KB:,.1f}",
        )
    out.print(figures)
    names = sorted({name for run in runs for name in run.bytes_to})
    shares = table(
        "Where the bytes go: KB written per event, by item",
        ("item", *(f"{run.events:,} events" for run in runs), "share at the largest"),
        left=("item",),
    )
    largest = runs[-1]
    for name in names:
        shares.add_row(
            name,
            *(kb(run.bytes_to.get(name, 0) / run.events) for run in runs),
            f"{100 * largest.bytes_to.get(name, 0) / max(largest.total, 1):.0f} %",
        )
    out.print(shares)
    small, large = runs[0], runs[-1]
    growth = large.tail(large.bytes_per_event) / max(small.tail(small.bytes_per_event), 1)
    met = growth <= TARGET_RATIO
    verdict = "[green]met[/green]" if met else "[red]not met[/red]"
    out.print(
        f"Target, bytes per event flat in the round's size (last 10 % at {large.events:,} events "
        f"<= {TARGET_RATIO} x that at {small.events:,}): {verdict}, {growth:.2f} x "
        f"({kb(large.tail(large.bytes_per_event))} KB against "
        f"{kb(small.tail(small.bytes_per_event))} KB). Issue 13 measured before: 32 KB, 123 KB "
        "and 486 KB per event at 100, 400 and 1,600 events."
    )
    out.print(UNITS_MODEL)
    out.print(f"wall time {wall:.1f} s")
    return met


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", default="100,400,1600", help="round sizes, in events")
    args = parser.parse_args(argv)
    sizes = [int(x) for x in args.events.split(",")]
    out = console()
    header(out, "Projection cost per event as a round grows (DynamoDB read models under moto)")
    import boto3

    from programme.template import load_template

    began = time.perf_counter()
    with emulated_aws():
        client = boto3.client("dynamodb", region_name=REGION)
        meter = DynamoMeter(table_keys(load_template()))
        meter.attach(client.meta.events)
        runs = [measure(client, meter, size) for size in sizes]
    report(runs, time.perf_counter() - began)
    return 0


if __name__ == "__main__":
    sys.exit(main())
